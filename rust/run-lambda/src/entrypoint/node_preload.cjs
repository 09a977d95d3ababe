// Preloaded (`node --require`) by run-lambda into a Node.js function's runtime,
// before the runtime interface client starts: makes the process's writes to
// stdout and stderr blocking.
//
// run-lambda gives the runtime pipes for stdout and stderr and kills the
// runtime's process tree as soon as the invocation's result is in (Lambda would
// freeze it; there is no next invocation here). Node.js writes to a full pipe
// asynchronously: what a handler logs faster than the pipe drains waits in the
// process's memory, and the client posts the response from the same turn of
// the event loop, before those writes go out, so the kill would lose them. In
// Lambda the client's console writes are synchronous (to the log file
// descriptor Lambda gives it). Blocking writes keep every line logged before
// the result, in order, as Python's and a `bootstrap`'s output is kept.
"use strict";

for (const stream of [process.stdout, process.stderr]) {
  const handle = stream._handle;
  if (handle && typeof handle.setBlocking === "function") {
    handle.setBlocking(true);
  }
}
