package payload

import "path"

// Product is the product's short name: the README title, the version
// output, and the runner's folder under ProgramData.
const Product = "fixstick"

// Names of the files and folders at a bundle's root.
const (
	PayloadDir  = "payloads"       // payloads/<artifact-id>/<file>
	RunnerAMD64 = "runner.exe"     // windows/amd64, Windows 10 / Server 2016 and later
	RunnerX86   = "runner-x86.exe" // windows/386, same systems
	LegacyDir   = "legacy"         // the XP to 8.1 executor
	StartCmd    = "START.cmd"      // picks the right runner for the machine
	ReadmeTxt   = "README.txt"     // the technician's instructions
	ReportsDir  = "reports"        // reports/<COMPUTERNAME>/, written by runners; not in the lock
)

// The legacy executor's native helper (runner/legacy/helper), for 64-bit
// and 32-bit Windows XP SP3 to 8.1.
const (
	LegacyHelperAMD64 = "legacy/fixhelp.exe"
	LegacyHelperX86   = "legacy/fixhelp-x86.exe"
)

// WineExport is the ntdll.dll export by which both executors know they run
// under Wine (Windows' ntdll has none): there, and never on Windows, a
// folder owned by the process's own user counts as private, since Wine
// keeps no owners and shows every file as that user's (runner.exe:
// runner/internal/winsys; the legacy helper: runner/legacy/helper/secops.c,
// which a test holds to this name).
const WineExport = "wine_get_version"

// PayloadPath is where an artifact's file (or a file extracted from it)
// lives in the bundle. Each artifact has its own folder, so that two
// artifacts may share a file name and each installer is copied, and run,
// alone.
func PayloadPath(artifactID, name string) string {
	return path.Join(PayloadDir, artifactID, name)
}
