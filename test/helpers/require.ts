// A prerequisite a test needs (bwrap, a writable memory cgroup, the built aws-lambda-ric) may be missing
// on a developer's machine, where the test skips and says why. CI sets LAMBDALITE_REQUIRE_<NAME>=1
// (.ci/run), and there the test runs anyway and fails on the missing prerequisite instead.
export type Prerequisite = 'BWRAP' | 'CGROUP' | 'RIC';

export function isRequired(name: Prerequisite): boolean {
  return process.env[`LAMBDALITE_REQUIRE_${name}`] === '1';
}

/** The `skip` option for a test needing `name`: a reason when it is missing and not required, else false. */
export function skipUnless(available: boolean, name: Prerequisite, reason: string): string | false {
  return available || isRequired(name) ? false : `${reason} (set LAMBDALITE_REQUIRE_${name}=1 to fail instead)`;
}
