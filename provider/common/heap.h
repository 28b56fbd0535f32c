/*
 * common/heap.h — how the provider process uses glibc's allocator.
 *
 * One call, made by main() before any thread starts (and by the in-process
 * benchmark, so that it measures what the provider does).
 */
#ifndef CR_HEAP_H
#define CR_HEAP_H

/* Applies the allocator policy described in heap.c. Returns 0, or -1 when
 * the C library refused a setting (the defaults then stay: slower, not
 * wrong). */
int cr_heap_configure(void);

#endif
