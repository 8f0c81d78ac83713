package pack

import (
	"fmt"
	"strings"

	"fixstick/payload"
)

// startCmd picks the runner for the machine it runs on. It reads the
// version numbers from `ver`, never words: `ver` is localized ("Version",
// "Versión") and Wine prints "Microsoft Windows 5.1.2600" with no
// brackets, so it takes the first word that starts with two numbers
// joined by a dot.
const startCmd = `@echo off
rem START.cmd: run this bundle on this computer, as Administrator.
rem Windows 10 and later:   runner.exe (64-bit) or runner-x86.exe (32-bit).
rem Windows XP SP3 to 8.1:  legacy\run.cmd.
setlocal DisableDelayedExpansion
rem Work from this folder, and name the programs relative to it: a path
rem in a variable would be parsed again (call doubles its ^, and % in it
rem would expand), and the stick's folder may have those in its name.
rem (pushd, not cd: it also enters a folder on the network, \\server\share.)
pushd "%~dp0"
set "MAJOR="
set "MINOR="
for /f "delims=" %%v in ('ver') do call :parsever "%%v"
if not defined MAJOR (
  echo Could not read the Windows version from "ver".
  goto fail
)
echo Windows version %MAJOR%.%MINOR%
if %MAJOR% GEQ 10 goto modern
if %MAJOR% LSS 5 goto unsupported
if %MAJOR% EQU 5 if %MINOR% LSS 1 goto unsupported

rem Windows XP to 8.1: the legacy executor.
call legacy\run.cmd %*
set "RC=%ERRORLEVEL%"
goto done

:modern
rem A 32-bit cmd on 64-bit Windows sees x86 here and the real
rem architecture in PROCESSOR_ARCHITEW6432.
set "ARCH=%PROCESSOR_ARCHITECTURE%"
if defined PROCESSOR_ARCHITEW6432 set "ARCH=%PROCESSOR_ARCHITEW6432%"
set "RUNNER=runner-x86.exe"
if /i "%ARCH%"=="AMD64" set "RUNNER=runner.exe"
rem ARM64 Windows runs the 32-bit x86 runner.
.\%RUNNER% %*
set "RC=%ERRORLEVEL%"
goto done

:unsupported
echo This bundle needs Windows XP SP3 or later.
goto fail

:fail
set "RC=1"

:done
popd
if not defined FIXSTICK_NOPAUSE pause
exit /b %RC%

rem parsever LINE: MAJOR and MINOR from the first word that reads N.N.
:parsever
set "LINE=%~1"
set "LINE=%LINE:[= %"
set "LINE=%LINE:]= %"
for %%w in (%LINE%) do call :word "%%w"
goto :eof

:word
if defined MAJOR goto :eof
for /f "tokens=1,2 delims=." %%m in ("%~1") do call :numbers "%%m" "%%n"
goto :eof

rem numbers A B: take A.B as the version when both are numbers
rem ("Microsoft" is not). No findstr: Wine's has no regular expressions.
:numbers
if "%~2"=="" goto :eof
set "N1="
set "N2="
set /a "N1=%~1" 2>nul
set /a "N2=%~2" 2>nul
if not "%N1%"=="%~1" goto :eof
if not "%N2%"=="%~2" goto :eof
set "MAJOR=%~1"
set "MINOR=%~2"
goto :eof
`

// readme is the technician's README.txt, generated from the lock (what
// will run) and the manifest (what the procedure is for). signKeyID is the
// id of the key the bundle is signed with, "" when it is not signed.
func readme(m *payload.Manifest, l *payload.Lock, signKeyID string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("%s", m.Title)
	p("%s", strings.Repeat("=", min(len(m.Title), 78)))
	p("")
	if d := strings.TrimSpace(m.Description); d != "" {
		p("%s", d)
		p("")
	}
	p("Manifest %s, built by %s builder %s, dated %s.", m.ID, payload.Product, l.Builder, l.Created)
	p("")
	p("HOW TO RUN IT")
	p("")
	p("1. Check the bundle: compare the SHA-256 of the zip with the hash published")
	p("   beside it (the .zip.sha256 file), before you copy it to the broken computer:")
	p("     certutil -hashfile BUNDLE.zip SHA256      (Windows)")
	p("     sha256sum BUNDLE.zip                      (Linux)")
	if signKeyID != "" {
		// Only a key from outside the stick proves anything: whoever can
		// rewrite the stick can replace a key on it too.
		p("   Signed with minisign key ID %s: a good signature proves that", signKeyID)
		p("   every file is what the key's holder built. Check it with the public key")
		p("   your organisation published, never with one found on the stick:")
		p("     minisign -Vm BUNDLE.zip -p KEY.pub")
		p("     runner.exe verify --key KEY.pub --bundle FOLDER   (Windows 10 and later)")
		p("   On XP to 8.1 nothing checks the signature: check it first on another PC.")
	}
	p("2. Unpack the whole zip to a folder (or a USB stick) on the broken computer.")
	p("3. Right-click START.cmd and choose \"Run as administrator\".")
	p("   START.cmd picks the program for this computer: runner.exe on Windows 10")
	p("   and later, legacy\\run.cmd on Windows XP SP3 to 8.1. Each checks every file")
	p("   of the bundle against bundle.lock.json before it runs anything.")
	p("   On XP to 8.1 that check is a script computing SHA-256 and is slow: about")
	p("   a minute per 18 MB (measured under Wine), so about %d min for this", legacyCheckMinutes(l))
	p("   bundle, and again after a restart for what is left to run. Let it run.")
	p("4. When a step needs a restart, the computer restarts and the bundle goes on")
	p("   by itself after you log on again (do not remove the stick or the folder).")
	p("5. The report is written to reports\\<COMPUTER NAME>\\report.json in this")
	p("   folder (and a copy in the computer's ProgramData\\%s folder; on XP,", payload.Product)
	p("   All Users\\Application Data\\%s).", payload.Product)
	p("")
	if l.Requires != nil {
		p("FOR WHICH COMPUTERS")
		p("")
		p("Only where %s. On any other computer the bundle changes nothing", l.Requires.String())
		p("and reports \"refused\".")
		p("")
	}
	if l.Goal != nil {
		p("GOAL")
		p("")
		p("%s.", upperFirst(l.Goal.String()))
		p("When this already holds, the bundle changes nothing and reports \"not-needed\"")
		p("(runner.exe run --force, or legacy\\run.cmd /force, runs it anyway). At the end,")
		p("the run is a success only if it holds.")
		p("")
	}
	p("WHAT IT DOES, STEP BY STEP")
	p("")
	for i, s := range l.Steps {
		title := s.Title
		if title == "" {
			title = s.ID
		}
		p("%d. %s  [%s]", i+1, title, s.ID)
		if s.Skip != "" {
			p("   NOT IN THIS BUNDLE, skipped: %s.", s.Skip)
			p("")
			continue
		}
		switch s.Kind {
		case payload.KindDetect:
			p("   Records facts about this computer (%s) for the conditions of the steps below.", s.Detect)
		case payload.KindMSI:
			p("   Installs %s with msiexec /i.", winPath(s.Program))
		case payload.KindMSP:
			p("   Applies the patch %s with msiexec /update.", winPath(s.Program))
		case payload.KindMSU:
			p("   Installs the update %s with wusa.", winPath(s.Program))
		default:
			p("   Runs %s", winPath(s.Program))
		}
		if s.Args != "" {
			p("   with: %s", s.Args)
		}
		if s.When != nil {
			p("   Only if %s.", s.When.String())
		}
		if s.Unless != nil {
			p("   Skipped if %s.", s.Unless.String())
		}
		if s.OnFailure == payload.OnFailureContinue {
			p("   A failure of this step is expected on some computers: it is reported, and the bundle goes on.")
		}
		if s.FinishIfGoalMet {
			p("   If the goal holds after this step, the bundle is finished: the rest is skipped.")
		}
		if s.Kind != payload.KindDetect {
			switch s.Reboot {
			case payload.RebootAfter:
				p("   The computer restarts after this step.")
			case payload.RebootNever:
				p("   Never restarts the computer, whatever the installer says.")
			default:
				p("   Restarts the computer if the installer asks for it.")
			}
			if s.Kind == payload.KindExe {
				p("   Stopped if it runs longer than %s.", duration(s.Timeout))
			} else {
				// The legacy script can stop a program only by name, and
				// stopping msiexec or wusa by name would stop Windows
				// Installer itself.
				p("   Stopped if it runs longer than %s (on Windows 10 and later only).", duration(s.Timeout))
			}
		}
		p("")
	}
	if len(m.References) > 0 {
		p("REFERENCES")
		p("")
		for _, r := range m.References {
			p("  %s", r)
		}
		p("")
	}
	p("Do not edit the files of this bundle: the programs refuse to run a bundle")
	p("whose files do not match bundle.lock.json.")
	return b.String()
}

// duration reads a timeout in seconds as a person would say it.
func duration(sec int64) string {
	n, unit := sec, "second"
	switch {
	case sec%3600 == 0 && sec >= 7200:
		n, unit = sec/3600, "hour"
	case sec%60 == 0 && sec >= 60:
		n, unit = sec/60, "minute"
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// winPath shows a bundle path the way Windows does.
func winPath(p string) string { return strings.ReplaceAll(p, "/", `\`) }

// crlf gives text Windows line endings: Notepad before Windows 10 1809
// and cmd.exe's parser want them.
func crlf(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// legacyCheckMinutes estimates how long the legacy script takes to hash the
// bundle's payloads once, at the ~300 KB/s Wine's JScript reaches here: the
// technician should expect a long pause, not think the script hung.
func legacyCheckMinutes(l *payload.Lock) int64 {
	var n int64
	for _, f := range l.Files {
		if strings.HasPrefix(f.Path, payload.PayloadDir+"/") {
			n += f.Size
		}
	}
	return max(1, (n+18e6-1)/18e6)
}

// upperFirst capitalises a sentence's first letter.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
