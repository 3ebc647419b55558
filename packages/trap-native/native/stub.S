/*
 * tsvisor-stub: the host process in which sandboxed code runs (see README.md, "The stub").
 *
 * The stub never runs on its own: the supervisor stops it right after execve (PTRACE_TRACEME),
 * unmaps everything else of it, loads the application around it and points its registers at
 * the application. The stub's only code is the gadget below, which the supervisor jumps to in
 * order to run a host system call inside the task ("injection"): rax and the argument registers
 * are set, `syscall` runs, and `int3` stops the task again with the result in rax.
 *
 * The linker script (stub.ld) places this page at STUB_BASE (0x7ffffff00000) and the scratch
 * page right after it, both above anything the application's address space model hands out.
 */
	.section .text.gadget, "ax", @progbits
	.globl	_start
_start:
	syscall
	int3
	/* Never reached: the supervisor always stops the task at the int3. */
	ud2

	/* Scratch page: the supervisor writes small arguments here (msghdr for passFd). */
	.section .bss.scratch, "aw", @nobits
	.balign	4096
	.globl	stub_scratch
stub_scratch:
	.skip	4096

	.section .note.GNU-stack, "", @progbits
