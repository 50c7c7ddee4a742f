// Loaded with --import into a server's top process by bench/master-memory.ts: once the file
// HEAP_REPORT.go exists it writes V8's heap figures and the count of Node's internal modules
// loaded to HEAP_REPORT. Children (anything with an IPC channel) report nothing. No ESM import
// of its own: that would load the ESM namespace of a builtin the process may not use.
if (process.env.HEAP_REPORT && !process.send) {
  const fs = process.getBuiltinModule('fs');
  const file = process.env.HEAP_REPORT;
  const poll = setInterval(() => {
    if (!fs.existsSync(`${file}.go`)) return;
    clearInterval(poll);
    const v8 = process.getBuiltinModule('v8');
    const h = v8.getHeapStatistics();
    const spaces = Object.fromEntries(
      v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]),
    );
    const report = {
      used: h.used_heap_size,
      total: h.total_heap_size,
      malloced: h.malloced_memory,
      spaces,
      modules: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).length,
    };
    fs.writeFileSync(file, JSON.stringify(report));
  }, 100);
  poll.unref();
}
