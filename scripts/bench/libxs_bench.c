/*
 * libxs_bench: libxenstore's side of dxl's client benchmark (scripts/bench/client.ts).
 *
 *   libxs_bench read|write|tx N
 *
 * Connects with xs_open(0) (XENSTORED_PATH), runs N sequential operations on /bench and
 * prints one line: "<ops per second> <p50 latency in microseconds>". "tx" is one
 * transaction of 10 writes per operation. Build: gcc -O2 libxs_bench.c -lxenstore
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#include "bench_timing.h"


static bool one(struct xs_handle *h, const char *mode) {
    if (strcmp(mode, "read") == 0) {
        unsigned int len;
        char *v = xs_read(h, XBT_NULL, "/bench/key", &len);
        free(v);
        return v != NULL;
    }
    if (strcmp(mode, "write") == 0) return xs_write(h, XBT_NULL, "/bench/key", "value-0123", 10);
    for (;;) {
        xs_transaction_t t = xs_transaction_start(h);
        if (t == XBT_NULL) return false;
        char path[32];
        for (int i = 0; i < 10; i++) {
            snprintf(path, sizeof path, "/bench/tx/k%d", i);
            if (!xs_write(h, t, path, "v", 1)) return false;
        }
        if (xs_transaction_end(h, t, false)) return true;
        if (errno != EAGAIN) return false;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s read|write|tx N\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    long n = atol(argv[2]);
    if (n <= 0 || (strcmp(mode, "read") && strcmp(mode, "write") && strcmp(mode, "tx"))) {
        fprintf(stderr, "bad mode or count: %s %s\n", mode, argv[2]);
        return 2;
    }
    struct xs_handle *h = xs_open(0);
    if (!h) {
        perror("xs_open");
        return 1;
    }
    double *lat = malloc(sizeof(double) * n);
    double start = now_us();
    for (long i = 0; i < n; i++) {
        double t0 = now_us();
        if (!one(h, mode)) {
            perror(mode);
            return 1;
        }
        lat[i] = now_us() - t0;
    }
    double total = now_us() - start;
    qsort(lat, n, sizeof(double), cmp);
    printf("%.0f %.2f\n", n / (total / 1e6), lat[n / 2]);
    xs_close(h);
    free(lat);
    return 0;
}
