#!/usr/bin/env python3
"""pyxs_bench.py SOCKET read|write|tx N - pyxs's side of dxl's client benchmark.

Runs N sequential operations on /bench through python3-pyxs and prints
"<ops per second> <p50 latency in microseconds>". "tx" is one transaction of 10 writes.
"""
import sys
import time

from pyxs import Client


def main() -> None:
    sock, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lat = []
    with Client(unix_socket_path=sock) as c:
        def one() -> None:
            if mode == "read":
                c.read(b"/bench/key")
            elif mode == "write":
                c.write(b"/bench/key", b"value-0123")
            else:
                while True:
                    c.transaction()
                    for i in range(10):
                        c.write(b"/bench/tx/k%d" % i, b"v")
                    if c.commit():
                        return
        start = time.perf_counter()
        for _ in range(n):
            t0 = time.perf_counter()
            one()
            lat.append(time.perf_counter() - t0)
        total = time.perf_counter() - start
    lat.sort()
    print(f"{n / total:.0f} {lat[n // 2] * 1e6:.2f}")


if __name__ == "__main__":
    main()
