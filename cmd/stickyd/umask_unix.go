//go:build unix

package main

import "syscall"

// restrictUmask makes every file stickyd creates (the database and its WAL,
// keys, secrets) readable by its owner only, whatever the caller's umask:
// they hold personal data. It is called from main only, never from run, so
// that tests do not change their process's umask.
func restrictUmask() { syscall.Umask(0o077) }
