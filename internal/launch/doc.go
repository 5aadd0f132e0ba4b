// Package launch starts and supervises child processes that follow the
// onion command-line contract: a long-running command prints exactly one
// line to stdout when it is ready ("<role> ready key=value ..."), and logs
// everything else, one line at a time, to stderr.
//
// A Child waits for that ready line and hands back its fields, copies every
// other line of output to a shared writer behind a per-child prefix, and
// stops with SIGTERM, escalating to SIGKILL. On Linux a child also receives
// SIGTERM when its parent dies, so a network started by `onion up` does not
// outlive it even if up is killed with SIGKILL.
//
// It is not a process manager: it does not restart anything, and it knows
// nothing about what the children are.
package launch
