// Shell scripts that record `ip monitor` while other commands run, for tests that compare the
// record natively and under tsvisor.

/** A probe address on lo of each family: announced once the monitor listens, then dropped. */
const PROBE = { 4: '10.254.254.254/32', 6: '2001:db8:fffe::1/128' } as const;

/**
 * A script that starts `ip -o ${monitor}` (output to a file), runs `steps`, stops the monitor
 * and prints what it recorded through `filter` (a pipeline reading its standard input). The
 * monitor is waited for rather than given a fixed time: on a loaded machine its start (exec, its
 * link dump, its namespace-id request) took over a second, and the first steps' announcements then
 * came before it listened, or crossed its own requests. A probe address of `family` is added to lo
 * and deleted until the monitor has announced it; the record starts after the probe's
 * announcements.
 */
export function underIpMonitor(monitor: string, steps: string, filter = 'cat', family: 4 | 6 = 4): string {
  const fam = family === 6 ? ' -6' : '';
  const probe = PROBE[family];
  const seen = probe.slice(0, probe.indexOf('/')).replace(/\./g, '\\.');
  return `
exec 2>&1
f=$(mktemp)
ip -o ${monitor} > $f &
m=$!
i=0
until grep -q '${seen}' $f || [ $i -ge 100 ]; do
  ip${fam} addr add ${probe} dev lo; ip${fam} addr del ${probe} dev lo; sleep 0.1; i=$((i + 1))
done
sleep 0.5
n=$(wc -l < $f)
${steps.trim()}
kill $m; wait $m 2>/dev/null
tail -n +$((n + 1)) $f | ${filter}; rm -f $f
`;
}
