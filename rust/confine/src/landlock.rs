//! Landlock, where the kernel has it: no file system access at all (every
//! file the worker needs is open before), no TCP bind or connect, no
//! signals or abstract Unix sockets outside the sandbox.

use landlock::{Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetStatus, Scope, ABI};

/// The newest ABI whose rights are asked for; older kernels enforce what they know.
const ABI_ASKED: ABI = ABI::V6;

/// Restrict this process (and its future threads); what the kernel enforced.
pub(crate) fn restrict() -> Result<String, String> {
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(ABI_ASKED))
        .and_then(|r| r.handle_access(AccessNet::from_all(ABI_ASKED)))
        .and_then(|r| r.scope(Scope::from_all(ABI_ASKED)))
        .and_then(|r| r.create())
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("refused: {e}"))?;
    match status.ruleset {
        RulesetStatus::FullyEnforced => Ok("files, TCP and scopes".into()),
        RulesetStatus::PartiallyEnforced => Ok("partly (an older Landlock ABI)".into()),
        RulesetStatus::NotEnforced => Err("not available in this kernel".into()),
    }
}
