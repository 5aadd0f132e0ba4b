// Package procstat reads what the kernel says about processes and this
// machine from Linux's /proc (proc(5)): a process's CPU time, state,
// resident memory now and at its peak, open descriptors and sockets, the
// listening sockets of the network namespace, and the CPU model and load.
//
// It is the one place in the module that reads /proc: the benchmark and
// the end-to-end tests measure the network's processes through it. The
// parsers are plain functions of the files' text; only the file access is
// Linux-only, and elsewhere every reader fails with errors.ErrUnsupported.
//
// It is not a process manager or a monitor: it takes one reading per call
// and keeps nothing between calls.
package procstat
