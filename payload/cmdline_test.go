package payload

import "testing"

// The runner and the legacy executor start steps with exactly these lines;
// a change here changes what runs on every machine.
func TestCommandLine(t *testing.T) {
	const prog = `C:\fix stick\payloads\a\Setup.exe`
	const log = `C:\ProgramData\fixstick\logs\s.log`
	tests := []struct {
		kind      Kind
		prog      string
		args, log string
		app, line string
	}{
		{KindExe, prog, "", "", prog, `"C:\fix stick\payloads\a\Setup.exe"`},
		{KindExe, prog, `/q:a /c:"cleanup.exe /p .NET Framework - All Versions /u"`, log, prog,
			`"C:\fix stick\payloads\a\Setup.exe" /q:a /c:"cleanup.exe /p .NET Framework - All Versions /u"`},
		{KindMSI, `D:\b\f.msi`, "", log, MsiexecPath,
			`"%SystemRoot%\System32\msiexec.exe" /i "D:\b\f.msi" /qn /norestart /l*v "C:\ProgramData\fixstick\logs\s.log"`},
		{KindMSI, `D:\b\f.msi`, `REBOOT=ReallySuppress  X="a b"`, "", MsiexecPath,
			`"%SystemRoot%\System32\msiexec.exe" /i "D:\b\f.msi" /qn /norestart REBOOT=ReallySuppress  X="a b"`},
		{KindMSP, `D:\b\p.msp`, "", log, MsiexecPath,
			`"%SystemRoot%\System32\msiexec.exe" /update "D:\b\p.msp" /qn /norestart /l*v "C:\ProgramData\fixstick\logs\s.log"`},
		{KindMSU, `D:\b\k.msu`, "/warnrestart", log, WusaPath,
			`"%SystemRoot%\System32\wusa.exe" "D:\b\k.msu" /quiet /norestart /warnrestart`},
	}
	for _, tc := range tests {
		app, line, err := CommandLine(tc.kind, tc.prog, tc.args, tc.log)
		if err != nil || app != tc.app || line != tc.line {
			t.Errorf("CommandLine(%s, %q, %q, %q)\n got: %q %q %v\nwant: %q %q", tc.kind, tc.prog, tc.args, tc.log, app, line, err, tc.app, tc.line)
		}
	}
	for _, bad := range []struct {
		kind      Kind
		prog, log string
	}{
		{KindDetect, prog, ""},
		{Kind("bat"), prog, ""},
		{KindExe, "", ""},
		{KindExe, `C:\a"b.exe`, ""},
		{KindMSI, `C:\a.msi`, `C:\"x.log`},
	} {
		if _, _, err := CommandLine(bad.kind, bad.prog, "", bad.log); err == nil {
			t.Errorf("CommandLine(%s, %q, %q) accepted", bad.kind, bad.prog, bad.log)
		}
	}
}
