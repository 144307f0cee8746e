// Linked into the NativeAOT image with -Wl,--wrap=pthread_create.
//
// Before Main, the NativeAOT runtime starts exactly one thread: the finalizer thread
// (RhInitializeFinalization in the runtime's FinalizerHelpers.cpp). It attaches itself to the runtime,
// calibrates spin waits and then sleeps until a collection finds finalizable garbage. A plugin call lives
// for a few milliseconds, allocates less than its gen0 budget (so it rarely collects at all), and disposes
// every descriptor it opens (75-hostile runs ADD, DEL and GC over thousands of reservations within 24 open
// files); when it exits, the kernel reclaims what a finalizer would have. Creating the thread and killing it
// at exit cost ~0.35 ms per call on a 2-CPU VM (VERSION 4.25 -> 3.9 ms, perf stat -r 300, three rounds),
// more than any other single step of start-up, and its calibration spins on the CPU a concurrent call needs.
//
// So the runtime's first thread is reported as started and never runs. Nothing in the image waits for
// finalizers (GC.WaitForPendingFinalizers is not in it); objects queued for finalization are freed with the
// process. Threads created later (Process.Start's SIGCHLD handler, for a delegated IPAM plugin) are created
// normally. 00-smoke asserts that no call starts the finalizer thread and that the first thread is that one.
#define _GNU_SOURCE
#include <pthread.h>

int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg);

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
    // The first call comes from the runtime's initialisation on the only thread there is: no race.
    static int runtime_thread_skipped;
    if (!runtime_thread_skipped) {
        runtime_thread_skipped = 1;
        *thread = (pthread_t)0; // the runtime creates it detached and never uses the id
        return 0;
    }
    return __real_pthread_create(thread, attr, start, arg);
}
