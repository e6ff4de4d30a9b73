/* Timing helpers shared by the C benchmark programs (libxs_bench.c, client_raw_bench.c). */
#ifndef DXL_BENCH_TIMING_H
#define DXL_BENCH_TIMING_H

#include <time.h>

/* Monotonic time in microseconds. */
static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* qsort comparator for doubles (for medians and percentiles). */
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
