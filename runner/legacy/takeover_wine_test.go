package legacy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"fixstick/internal/winetest"
)

func TestMain(m *testing.M) { winetest.Main(m) }

var fakesec struct {
	once sync.Once
	exe  string
	err  error
}

// fakesecHelper builds the x64 helper with the fake security layer
// (helper/test/fakesec.c), which keeps owners and DACLs: Wine 8 maps file
// security to Unix mode bits, so a take-over there reads back as the
// Wine user's, whatever was set.
func fakesecHelper(t *testing.T) string {
	t.Helper()
	helpers(t)
	fakesec.once.Do(func() {
		dir := winetest.Get(t).Scratch("fakesec")
		src, _ := filepath.Abs("helper")
		if msg, err := exec.Command("make", "-s", "-C", src, "OUT="+dir, "fakesec").CombinedOutput(); err != nil {
			fakesec.err = err
			t.Logf("%s", msg)
		}
		fakesec.exe = filepath.Join(dir, "fixhelp-fakesec.exe")
	})
	if fakesec.err != nil {
		t.Fatal(fakesec.err)
	}
	return fakesec.exe
}

func utf16File(t *testing.T, name, text string) {
	t.Helper()
	u := utf16.Encode([]rune("\ufeff" + text))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readUTF16(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return strings.TrimPrefix(string(utf16.Decode(u)), "\ufeff")
}

// machine is a Wine prefix with folders made on the host, and the
// security the fake layer reports for them.
type machine struct {
	t   *testing.T
	p   *winetest.Prefix
	exe string
}

func newFakeMachine(t *testing.T, dirs ...string) *machine {
	m := &machine{t: t, p: winetest.Get(t).NewPrefix(t), exe: fakesecHelper(t)}
	for _, d := range dirs {
		h := m.p.HostPath(d)
		if strings.HasSuffix(d, ".exe") || strings.HasSuffix(d, ".dll") || strings.HasSuffix(d, ".json") {
			os.MkdirAll(filepath.Dir(h), 0o755)
			if err := os.WriteFile(h, []byte(d), 0o644); err != nil {
				t.Fatal(err)
			}
		} else if err := os.MkdirAll(h, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// helper runs the fake helper with a request and the fake's state
// (lines "wine\t0|1" and "entry\tPATH\tSDDL\tFLAGS"); it returns the
// exit status, the response, and the state after the run.
func (m *machine) helper(state string, request ...string) (int, string, string) {
	m.t.Helper()
	utf16File(m.t, m.p.C("fake.txt"), state)
	utf16File(m.t, m.p.C("req.txt"), strings.Join(request, "\r\n")+"\r\n")
	r := m.p.RunEnv([]string{`FIXHELP_FAKESEC=C:\fake.txt`}, m.exe, `C:\req.txt`, `C:\res.txt`)
	return r.Status, readUTF16(m.t, m.p.C("res.txt")), readUTF16(m.t, m.p.C("fake.txt"))
}

// hasRecord tells whether a response holds a line that starts with start.
func hasRecord(res, start string) bool {
	return strings.HasPrefix(res, start) || strings.Contains(res, "\n"+start)
}

const (
	eve     = "S-1-5-21-1-2-3-1001" // a local user
	sigma   = "S-1-5-21-1-2-3-1002" // a user named ΣΥΣΤΗΜ: as many letters as SYSTEM, none of them ASCII
	wineUsr = "S-1-5-21-0-0-0-1000" // the user every Wine process runs as
	private = "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
)

var takeover = []string{"takeover", `root	C:\pd\fixstick`, `bundle	C:\pd\fixstick\b1`, `keep-dir	C:\pd\fixstick\b1\b`,
	`keep	payloads\one\one.exe`, `keep	bundle.lock.json`}

// privateState is the SDDL the fake holds for path after a take-over:
// Administrators own it, and only SYSTEM and Administrators get in.
func privateState(t *testing.T, state, path string) {
	t.Helper()
	for _, l := range strings.Split(state, "\r\n") {
		if p, sddl, _ := strings.Cut(l, "\t"); strings.EqualFold(p, path) {
			if sddl != "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)" {
				t.Errorf("%s: %s, want Administrators' with SYSTEM and Administrators only", path, sddl)
			}
			return
		}
	}
	t.Errorf("%s: not set (state:\n%s)", path, state)
}

// A folder that a user made before the first run (the bundle id is
// public) is moved aside, and a new private one is made: nothing in it is
// used.
func TestTakeOverMovesAsideAFolderAUserOwns(t *testing.T) {
	m := newFakeMachine(t, `C:\pd\fixstick\b1\b\payloads\one\one.exe`)
	rc, res, state := m.helper("wine\t0\r\n"+
		`entry	C:\pd\fixstick	O:`+eve+`D:P(A;OICI;FA;;;`+eve+`)	-`, takeover...)
	if rc != 0 || !strings.Contains(res, "moved\tC:\\pd\\fixstick\tC:\\pd\\fixstick.untrusted-") || !strings.HasSuffix(res, "ok\r\n") {
		t.Fatalf("status %d:\n%s", rc, res)
	}
	// the user's folder keeps its owner and DACL; a new one is private
	if !strings.Contains(state, `C:\pd\fixstick	O:`+eve+`D:P(A;OICI;FA;;;`+eve+`)`) ||
		!strings.Contains(state, `C:\pd\fixstick	O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)`) {
		t.Errorf("state after:\n%s", state)
	}
	if _, err := os.Stat(m.p.HostPath(`C:\pd\fixstick\b1\b\payloads\one\one.exe`)); !os.IsNotExist(err) {
		t.Errorf("the new private folder holds the user's files: %v", err)
	}
}

// A protected DACL that grants a user, on the folders and on the files in
// them, is replaced everywhere (by SID); a file the lock does not list is
// deleted.
func TestTakeOverResetsAProtectedDACLThatGrantsAUser(t *testing.T) {
	m := newFakeMachine(t, `C:\pd\fixstick\b1\b\payloads\one\one.exe`, `C:\pd\fixstick\b1\b\payloads\one\version.dll`,
		`C:\pd\fixstick\b1\legacy-journal.txt.json`)
	grant := `D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;` + eve + `)`
	rc, res, state := m.helper("wine\t0\r\n"+
		`entry	C:\pd\fixstick	O:BA`+grant+"\t-\r\n"+
		`entry	C:\pd\fixstick\b1	O:BA`+grant+"\t-\r\n"+
		`entry	C:\pd\fixstick\b1\b\payloads\one\one.exe	O:`+eve+grant+"\t-", takeover...)
	if rc != 0 || !strings.Contains(res, "removed\tC:\\pd\\fixstick\\b1\\b\\payloads\\one\\version.dll") || hasRecord(res, "moved") {
		t.Fatalf("status %d:\n%s", rc, res)
	}
	for _, p := range []string{`C:\pd\fixstick`, `C:\pd\fixstick\b1`, `C:\pd\fixstick\b1\b\payloads\one\one.exe`,
		`C:\pd\fixstick\b1\b\payloads`, `C:\pd\fixstick\b1\legacy-journal.txt.json`} {
		privateState(t, state, p)
	}
	if _, err := os.Stat(m.p.HostPath(`C:\pd\fixstick\b1\b\payloads\one\version.dll`)); !os.IsNotExist(err) {
		t.Errorf("the unlisted DLL is still there: %v", err)
	}
	if _, err := os.Stat(m.p.HostPath(`C:\pd\fixstick\b1\legacy-journal.txt.json`)); err != nil {
		t.Errorf("a file outside the bundle's copy was deleted: %v", err)
	}
}

// Read back by SID: an entry that stays (a set that does not take, as
// on Wine) for an account whose name is not ASCII and as long as SYSTEM
// is refused; the old check compared names with "?" for every non-ASCII
// character. Nothing is trusted by name.
func TestTakeOverRefusesAnEntryThatStays(t *testing.T) {
	m := newFakeMachine(t, `C:\pd\fixstick\b1\b\payloads\one\one.exe`)
	rc, res, _ := m.helper("wine\t0\r\n"+
		`entry	C:\pd\fixstick\b1\b\payloads	O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;`+sigma+")\tsticky", takeover...)
	if rc != 1 || !strings.Contains(res, "refused\tC:\\pd\\fixstick\\b1\\b\\payloads\tits permission list lets in someone other than SYSTEM and Administrators") {
		t.Fatalf("status %d:\n%s", rc, res)
	}
	// owned by that account, on a folder below the ones moved aside
	rc, res, _ = m.helper("wine\t0\r\n"+
		`entry	C:\pd\fixstick\b1\b	O:`+sigma+"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)\tsticky", takeover...)
	if rc != 1 || !strings.Contains(res, "refused\tC:\\pd\\fixstick\\b1\\b\tit is owned by someone other than SYSTEM or Administrators") {
		t.Fatalf("status %d:\n%s", rc, res)
	}
}

// The underWine rule, shared with runner.exe: under Wine (and only
// there) the Wine user's ownership and the DACL Wine derives from the
// mode bits are accepted; another user's never are.
func TestTakeOverUnderWineRule(t *testing.T) {
	m := newFakeMachine(t, `C:\pd\fixstick\b1\b\payloads\one\one.exe`)
	wineDACL := `O:` + wineUsr + `D:(A;OICI;FA;;;SY)(A;OICI;FA;;;` + wineUsr + `)(A;OICI;0x1200a9;;;WD)`
	entries := `entry	C:\pd\fixstick	` + wineDACL + "\tsticky\r\n" + `entry	C:\pd\fixstick\b1	` + wineDACL + "\tsticky"
	if rc, res, _ := m.helper("wine\t1\r\n"+entries, takeover...); rc != 0 || hasRecord(res, "moved") {
		t.Fatalf("under Wine: status %d:\n%s", rc, res)
	}
	// the same on Windows: the user's folder is moved aside, with the
	// bundle's folder in it, and new ones are made
	if rc, res, _ := m.helper("wine\t0\r\n"+entries, takeover...); rc != 0 || !hasRecord(res, "moved\tC:\\pd\\fixstick\t") {
		t.Fatalf("on Windows: status %d:\n%s", rc, res)
	}
	// under Wine, Everyone may only read
	m2 := newFakeMachine(t, `C:\pd\fixstick\b1\b\payloads\one\one.exe`)
	rc, res, _ := m2.helper("wine\t1\r\n"+`entry	C:\pd\fixstick\b1\b	O:`+wineUsr+`D:(A;OICI;FA;;;SY)(A;OICI;FA;;;WD)`+"\tsticky", takeover...)
	if rc != 1 || !strings.Contains(res, "lets in someone other than SYSTEM and Administrators") {
		t.Fatalf("Everyone writing, under Wine: status %d:\n%s", rc, res)
	}
}

// A junction or link anywhere in the private folder is refused, and one
// at the private folder itself is moved aside. Wine 8 can make no
// junction (mklink /J does nothing, and it shows a Unix symbolic link as
// the folder it points to), so the fake marks them.
func TestTakeOverRefusesJunctions(t *testing.T) {
	m := newFakeMachine(t, `C:\pd\fixstick\b1\b\payloads\one\one.exe`)
	rc, res, _ := m.helper("wine\t0\r\n"+`entry	C:\pd\fixstick\b1\b\payloads\one	O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)	reparse`, takeover...)
	if rc != 1 || !strings.Contains(res, "refused\tC:\\pd\\fixstick\\b1\\b\\payloads\\one\tit is a junction or link") {
		t.Fatalf("status %d:\n%s", rc, res)
	}
	rc, res, _ = m.helper("wine\t0\r\n"+`entry	C:\pd\fixstick\b1	O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)	reparse`, takeover...)
	if rc != 0 || !strings.Contains(res, "moved\tC:\\pd\\fixstick\\b1\tC:\\pd\\fixstick\\b1.untrusted-") {
		t.Fatalf("status %d:\n%s", rc, res)
	}
}

// Reports go back only into the folder the run started from, while it
// holds the same lock, never through a junction, and never into a
// folder made again.
func TestWriteBack(t *testing.T) {
	m := newFakeMachine(t, `C:\stick\bundle.lock.json`, `C:\priv\report.json`, `C:\other\bundle.lock.json`)
	os.WriteFile(m.p.HostPath(`C:\priv\bundle.lock.json`), []byte(`C:\stick\bundle.lock.json`), 0o644)
	req := func(origin string) []string {
		return []string{"writeback", "origin\t" + origin, `lock	C:\priv\bundle.lock.json`, "folder\tPC", `file	C:\priv\report.json	report.json`}
	}
	if rc, res, _ := m.helper("wine\t0", req(`C:\stick`)...); rc != 0 || res != "wrote\tC:\\stick\\reports\\PC\\report.json\r\n" {
		t.Fatalf("status %d:\n%s", rc, res)
	}
	if b, err := os.ReadFile(m.p.HostPath(`C:\stick\reports\PC\report.json`)); err != nil || string(b) != `C:\priv\report.json` {
		t.Errorf("report %q %v", b, err)
	}
	for _, tc := range []struct{ origin, state, want string }{
		{`C:\other`, "", "no longer holds this bundle's bundle.lock.json"},
		{`C:\gone`, "", "the folder the run started from is gone"},
		{`C:\stick`, `entry	C:\stick\reports\PC	O:BAD:	reparse`, "the computer's reports folder cannot be made, or is a junction or link"},
		{`C:\stick`, `entry	C:\stick\reports	O:BAD:	reparse`, "its reports folder cannot be made, or is a junction or link"},
		{`C:\stick`, `entry	C:\stick	O:BAD:	reparse`, "it or a folder above it is a junction or link"},
	} {
		rc, res, _ := m.helper("wine\t0\r\n"+tc.state, req(tc.origin)...)
		if rc != 1 || !strings.Contains(res, "refused\t") || !strings.Contains(res, tc.want) || strings.Contains(res, "wrote") {
			t.Errorf("%s %s: status %d:\n%s", tc.origin, tc.state, rc, res)
		}
	}
	if _, err := os.Stat(m.p.HostPath(`C:\gone`)); !os.IsNotExist(err) {
		t.Errorf("the gone folder was made again: %v", err)
	}
}
