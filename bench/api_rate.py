"""Open-loop GET load at a fixed rate: one request every 1/rate s, spread over a few persistent
connections, each latency measured from its scheduled send time (so a stall counts against every
request it delays). Prints the achieved rate, median and p99 in ms."""
import http.client
import sys
import threading
import time
import urllib.parse

url, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
parts = urllib.parse.urlsplit(url)
workers = 8
latencies = []
errors = []
lock = threading.Lock()
start = time.perf_counter() + 0.2
total = int(rate * seconds)


def worker(index):
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    mine = []
    for n in range(index, total, workers):
        scheduled = start + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            connection.request("GET", parts.path, headers={"Accept": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
        except Exception as error:  # noqa: BLE001 (a failed request is reported, not fatal)
            errors.append(str(error))
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine.append(time.perf_counter() - scheduled)
    with lock:
        latencies.extend(mine)


threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.perf_counter() - start
latencies.sort()
p50 = latencies[len(latencies) // 2] * 1000
p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
print(f"{'fixed rate GET ' + parts.path:<40} {len(latencies) / elapsed:10.0f} req/s   "
      f"p50 {p50:6.2f}ms   p99 {p99:6.2f}ms   (asked {rate:.0f}/s, {len(errors)} errors)")
sys.exit(1 if errors else 0)
