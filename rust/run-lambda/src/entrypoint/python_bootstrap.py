"""Start a Python function under awslambdaric, naming its errors as Python does.

run-lambda writes this file into the run's runtime directory (Lambda's
/var/runtime) and starts `python bootstrap.py HANDLER`. The function runs on
the real runtime interface client, awslambdaric, unchanged but for one thing:
an exception the function raises is reported with the name Python's own
traceback prints for it, `module.Class` (builtins and __main__ stay bare), not
the bare class name awslambdaric reports. Cirrus tells an invalid payload from
a failure by that full name (`stactask.exceptions.InvalidInput`), read from
the last line of the job's log, which run-lambda builds from the reported type.

The seam is `awslambdaric.bootstrap.make_error`, which builds the body posted
to `/runtime/invocation/{id}/error` and `/runtime/init/error`. awslambdaric
calls it while the exception is being handled and passes
`type(exception).__name__` as the type when the function raised it; its own
errors (`Runtime.ImportModuleError`, `Runtime.MarshalError`, ...) pass another
name and are left as they are.
"""

import sys


def printed_name(cls):
    """The exception's name as `traceback` prints it on a traceback's last line."""
    qualname = getattr(cls, "__qualname__", cls.__name__)
    module = getattr(cls, "__module__", None)
    if module in ("builtins", "__main__"):
        return qualname
    if not isinstance(module, str):
        module = "<unknown>"
    return f"{module}.{qualname}"


def naming_as_python_prints(make_error):
    def make_error_with_printed_name(error_message, error_type, *args, **kwargs):
        exception = sys.exc_info()[1]
        if exception is not None and error_type == type(exception).__name__:
            error_type = printed_name(type(exception))
        return make_error(error_message, error_type, *args, **kwargs)

    return make_error_with_printed_name


def main(argv):
    from awslambdaric import __main__ as ric
    from awslambdaric import bootstrap

    if callable(getattr(bootstrap, "make_error", None)):
        bootstrap.make_error = naming_as_python_prints(bootstrap.make_error)
    else:
        print(
            "run-lambda: this awslambdaric has no bootstrap.make_error: "
            "errors are reported by their bare class name",
            file=sys.stderr,
        )
    ric.main(argv)


if __name__ == "__main__":
    main(sys.argv)
