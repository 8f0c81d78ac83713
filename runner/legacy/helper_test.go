package legacy

import (
	"bytes"
	"debug/pe"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fixstick/internal/winetest"
	"fixstick/payload"
)

// xpExports lists every function the helper may import, each with the
// "Minimum supported client" of its page in Microsoft's Win32 API
// reference (learn.microsoft.com/windows/win32/api/<header>/nf-<header>-
// <function>). Pages marked "checked" were read for this list; the others
// show the same floor as the rest of their family (Microsoft's reference
// starts at Windows XP, or at Windows 2000 Professional for the lstr and
// console functions). XP SP3 exports them all; SHA-256 in CryptoAPI
// (CALG_SHA_256 under PROV_RSA_AES) needs SP3, and the helper reports its
// absence (exit 3) rather than failing to load.
var xpExports = map[string]map[string]string{
	"KERNEL32.dll": {
		"AssignProcessToJobObject":   "Windows XP",
		"CloseHandle":                "Windows 2000 Professional",
		"CreateDirectoryW":           "Windows XP",
		"CreateFileW":                "Windows XP",
		"CreateJobObjectW":           "Windows XP",
		"CreateProcessW":             "Windows XP",
		"CreateToolhelp32Snapshot":   "Windows XP",
		"DeleteFileW":                "Windows XP",
		"ExitProcess":                "Windows XP",
		"FindClose":                  "Windows XP",
		"FindFirstFileW":             "Windows XP",
		"FindNextFileW":              "Windows XP",
		"FlushFileBuffers":           "Windows XP",
		"FormatMessageW":             "Windows XP",
		"GetCommandLineW":            "Windows XP (checked)",
		"GetCurrentProcess":          "Windows XP",
		"GetExitCodeProcess":         "Windows XP",
		"GetFileAttributesW":         "Windows XP",
		"GetFileInformationByHandle": "Windows XP",
		"GetFileSize":                "Windows XP",
		"GetLastError":               "Windows XP",
		"GetLocalTime":               "Windows 2000 Professional",
		"GetModuleHandleW":           "Windows XP",
		"GetProcAddress":             "Windows XP",
		"GetProcessHeap":             "Windows XP",
		"GetTickCount":               "Windows 2000 Professional",
		"HeapAlloc":                  "Windows XP",
		"HeapFree":                   "Windows XP",
		"LocalFree":                  "Windows XP",
		"MoveFileExW":                "Windows XP",
		"Process32FirstW":            "Windows XP (checked)",
		"Process32NextW":             "Windows XP",
		"QueryInformationJobObject":  "Windows XP (JOBOBJECT_BASIC_PROCESS_ID_LIST checked)",
		"ReadFile":                   "Windows XP",
		"RemoveDirectoryW":           "Windows XP",
		"ResumeThread":               "Windows XP",
		"SetConsoleTitleW":           "Windows 2000 Professional",
		"SetErrorMode":               "Windows XP",
		"SetFileAttributesW":         "Windows XP",
		"SetFilePointerEx":           "Windows XP",
		"SetInformationJobObject":    "Windows XP",
		"Sleep":                      "Windows XP",
		"TerminateJobObject":         "Windows XP",
		"TerminateProcess":           "Windows XP",
		"VirtualAlloc":               "Windows XP",
		"WaitForSingleObject":        "Windows XP",
		"WideCharToMultiByte":        "Windows 2000 Professional",
		"WriteFile":                  "Windows XP",
		"lstrcmpW":                   "Windows 2000 Professional",
		"lstrcpyW":                   "Windows 2000 Professional",
		"lstrcpynW":                  "Windows 2000 Professional",
		"lstrlenW":                   "Windows 2000 Professional",
	},
	"ADVAPI32.dll": {
		"AddAccessAllowedAceEx":        "Windows XP (checked)",
		"AdjustTokenPrivileges":        "Windows XP",
		"CreateWellKnownSid":           "Windows XP (checked)",
		"CryptAcquireContextW":         "Windows XP (PROV_RSA_AES on XP: the \"(Prototype)\" provider, checked)",
		"CryptCreateHash":              "Windows XP",
		"CryptDestroyHash":             "Windows XP",
		"CryptGetHashParam":            "Windows XP",
		"CryptHashData":                "Windows XP",
		"EqualSid":                     "Windows XP",
		"GetAce":                       "Windows XP",
		"GetNamedSecurityInfoW":        "Windows XP",
		"GetSecurityDescriptorControl": "Windows XP (checked)",
		"GetTokenInformation":          "Windows XP",
		"InitializeAcl":                "Windows XP",
		"InitializeSecurityDescriptor": "Windows XP",
		"LookupPrivilegeValueW":        "Windows XP",
		"OpenProcessToken":             "Windows XP",
		"SetNamedSecurityInfoW":        "Windows XP",
		"SetSecurityDescriptorControl": "Windows XP (checked)",
		"SetSecurityDescriptorDacl":    "Windows XP",
		"SetSecurityDescriptorOwner":   "Windows XP",
	},
	"SHELL32.dll": {
		"CommandLineToArgvW": "Windows XP",
		"SHGetFolderPathW":   "Windows XP (CSIDL_COMMON_APPDATA: shell32 5.0)",
	},
}

func helpers(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("i686-w64-mingw32-gcc"); err != nil && os.Getenv("FIXSTICK_REQUIRE_WINE") == "" {
		t.Skip("the mingw-w64 compilers are not installed (apt install gcc-mingw-w64-i686-win32 gcc-mingw-w64-x86-64-win32)")
	}
	dir, err := winetest.BuildHelpers()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The helpers start on Windows XP SP3: the x86 build is PE32 with
// subsystem 5.1, the x64 build PE32+ with 5.2 (XP x64), neither carries a
// time stamp (so make builds them byte for byte again), and they import
// only functions XP SP3 exports, from kernel32, advapi32 and shell32.
// This machine cannot run 32-bit code: the x86 build is proven here, the
// x64 build also runs under Wine.
func TestHelperStartsOnXP(t *testing.T) {
	dir := helpers(t)
	for _, tc := range []struct {
		path        string
		machine     uint16
		pe32        bool
		subsysMinor uint16
	}{
		{payload.LegacyHelperX86, pe.IMAGE_FILE_MACHINE_I386, true, 1},
		{payload.LegacyHelperAMD64, pe.IMAGE_FILE_MACHINE_AMD64, false, 2},
	} {
		f, err := pe.Open(filepath.Join(dir, filepath.FromSlash(tc.path)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if f.FileHeader.Machine != tc.machine || f.FileHeader.TimeDateStamp != 0 {
			t.Errorf("%s: machine %#x, time stamp %#x", tc.path, f.FileHeader.Machine, f.FileHeader.TimeDateStamp)
		}
		var major, minor, osMajor, osMinor uint16
		switch h := f.OptionalHeader.(type) {
		case *pe.OptionalHeader32:
			if !tc.pe32 {
				t.Errorf("%s is PE32, want PE32+", tc.path)
			}
			major, minor, osMajor, osMinor = h.MajorSubsystemVersion, h.MinorSubsystemVersion, h.MajorOperatingSystemVersion, h.MinorOperatingSystemVersion
			if h.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_CUI {
				t.Errorf("%s: subsystem %d, want console", tc.path, h.Subsystem)
			}
		case *pe.OptionalHeader64:
			if tc.pe32 {
				t.Errorf("%s is PE32+, want PE32", tc.path)
			}
			major, minor, osMajor, osMinor = h.MajorSubsystemVersion, h.MinorSubsystemVersion, h.MajorOperatingSystemVersion, h.MinorOperatingSystemVersion
		default:
			t.Fatalf("%s: no optional header", tc.path)
		}
		if major != 5 || minor > tc.subsysMinor || osMajor != 5 || osMinor > tc.subsysMinor {
			t.Errorf("%s: subsystem %d.%d, OS %d.%d; want at most 5.%d", tc.path, major, minor, osMajor, osMinor, tc.subsysMinor)
		}
		syms, err := f.ImportedSymbols()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range syms {
			fn, dll, _ := strings.Cut(s, ":")
			if _, ok := xpExports[dll][fn]; !ok {
				t.Errorf("%s imports %s from %s, which is not on the list of functions XP SP3 exports", tc.path, fn, dll)
			}
		}
		if len(syms) < 40 {
			t.Errorf("%s: only %d imports read: %v", tc.path, len(syms), syms)
		}
		libs, _ := f.ImportedLibraries()
		for _, l := range libs {
			if _, ok := xpExports[l]; !ok {
				t.Errorf("%s imports %s", tc.path, l)
			}
		}
	}
}

// The allowlist catches what XP lacks: an import of a Vista function, as
// a careless edit would add, is refused.
func TestHelperAllowlistRefusesVista(t *testing.T) {
	for _, fn := range []string{"GetTickCount64", "CompareStringOrdinal", "CreateSymbolicLinkW", "GetFinalPathNameByHandleW"} {
		if _, ok := xpExports["KERNEL32.dll"][fn]; ok {
			t.Errorf("%s (Vista and later) is on the XP list", fn)
		}
	}
}

// make builds the helpers byte for byte again, from another folder.
func TestHelperReproducible(t *testing.T) {
	dir := helpers(t)
	src, err := filepath.Abs("helper")
	if err != nil {
		t.Fatal(err)
	}
	copyDir := t.TempDir()
	out := t.TempDir()
	for _, n := range []string{"Makefile", "helper.h", "main.c", "hash.c", "secure.c", "secops.c", "run.c", "report.c"} {
		data, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(copyDir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if msg, err := exec.Command("make", "-s", "-C", copyDir, "OUT="+out).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	for _, n := range []string{payload.LegacyHelperAMD64, payload.LegacyHelperX86} {
		a, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(n)))
		b, _ := os.ReadFile(filepath.Join(out, filepath.Base(n)))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs when built in another folder (%d and %d bytes)", n, len(a), len(b))
		}
	}
}

// The helper knows Wine as runner.exe does (payload.WineExport), and
// only the security layer asks.
func TestHelperUnderWineRuleShared(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("helper", "secops.c"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), `"`+payload.WineExport+`"`); n != 1 {
		t.Errorf("secops.c names %q %d times, want once", payload.WineExport, n)
	}
	for _, f := range []string{"main.c", "hash.c", "secure.c", "run.c", "report.c"} {
		b, _ := os.ReadFile(filepath.Join("helper", f))
		if strings.Contains(string(b), "wine_get_version") {
			t.Errorf("%s looks for Wine itself: only secops.c may", f)
		}
	}
}
