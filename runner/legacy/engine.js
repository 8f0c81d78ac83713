// ======================================================================
// THE ENGINE. Everything below is the same for every bundle; the bundle's
// own data (files, steps, exit codes) is above this line.
//
// Written for Windows Script Host 5.7 / JScript 5.7 (Windows XP SP3):
// ECMAScript 3 only (no JSON object, no Array indexOf/forEach, no
// String trim), and only programs every Windows since XP has: cscript,
// cmd, reg, shutdown, and the bundle's native helper (legacy\fixhelp.exe,
// or fixhelp-x86.exe on 32-bit Windows), which this script checks before
// its first use and then calls for everything that needs the Windows API:
// SHA-256, the checked copy, the private folder, running programs, and
// writing reports back to the stick.
// ======================================================================

var sh = WScript.CreateObject("WScript.Shell");
var fso = WScript.CreateObject("Scripting.FileSystemObject");

// WScript.Shell's Run starts programs through ShellExecute, which on XP
// SP2 and later asks "Do you want to run this file?" before it starts a
// file marked as downloaded (a bundle unzipped with Explorer from a
// downloaded zip), and the run would wait for a click. run.cmd turns that
// check off (SEE_MASK_NOZONECHECKS=1, KB889815), which is why this script
// is always started through run.cmd, also after a restart.

var PRODUCT = "fixstick";
var JOURNAL_NAME = "legacy-journal.txt"; // the Go runner's journal.json is another format
var LOG_NAME = "legacy.log";
var REPORT_NAME = "report.json";
// MAX_REBOOTS, RETRY_FOR, RETRY_FIRST, RETRY_MAX_WAIT and DEFAULT_TIMEOUT
// are rendered above from the policy runner.exe follows (payload/policy.go).
var EXIT_SUCCESS = 0, EXIT_FAILED = 1, EXIT_REBOOT = 3010;

var OPT = { resume: false, reboot: false, quiet: false, force: false, sha256: [] };
var HEARTBEAT = 60;  // seconds between "still running" lines while a program runs
var ID = "";       // the bundle id, from bundle.lock.json
var P = {};        // paths in the private folder, set by main
var J = null;      // the journal
var OS = null;     // Windows version and architecture
var NOTES = [];    // said in the report's reason
var REPORT = { outcome: "", reason: "", started: "" };
var RESTART = false;
var GOAL = { before: null, after: null }; // the goal's value at the start and at the end, when known
var GATE_SKIP = "";  // why no step ran (refused, not needed): said for each step that did not run
var LOGFILE = null;

// ---------------------------------------------------------------- text --

function trim(s) { return String(s).replace(/^\s+/, "").replace(/\s+$/, ""); }

function pad2(n) { return n < 10 ? "0" + n : String(n); }

// now returns the UTC time as RFC 3339, as the Go runner writes it.
function now() {
    var d = new Date();
    return d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) + "T" +
        pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + ":" + pad2(d.getUTCSeconds()) + "Z";
}

function localTime() {
    var d = new Date();
    return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()) + " " +
        pad2(d.getHours()) + ":" + pad2(d.getMinutes()) + ":" + pad2(d.getSeconds());
}

// codeString names an exit code both ways: "1603 (0x643)".
function codeString(code) { return code + " (0x" + code.toString(16).toUpperCase() + ")"; }

function explainCode(code) {
    var t = KNOWN_CODES[String(code)];
    return t ? t : GENERIC_CODE_TEXT;
}

// jsonString writes s as a JSON string of ASCII characters only, so the
// report is valid UTF-8 whatever the code page.
function jsonString(s) {
    s = String(s);
    var out = "\"";
    for (var i = 0; i < s.length; i++) {
        var c = s.charCodeAt(i);
        if (c == 34) out += "\\\"";
        else if (c == 92) out += "\\\\";
        else if (c == 10) out += "\\n";
        else if (c == 13) out += "\\r";
        else if (c == 9) out += "\\t";
        else if (c < 32 || c > 126) {
            var h = c.toString(16);
            while (h.length < 4) h = "0" + h;
            out += "\\u" + h;
        } else out += s.charAt(i);
    }
    return out + "\"";
}

// expand expands %VARIABLES% as Windows does. (Wine's WSH returns the
// string with a NUL at the end: cut it off.)
function expand(s) {
    var x = String(sh.ExpandEnvironmentStrings(s));
    var z = x.indexOf("\u0000");
    return z >= 0 ? x.substring(0, z) : x;
}

// expandSystemRoot replaces the %SystemRoot% placeholder in front of a
// system program (msiexec, wusa) at the start of command line s, as
// runner.exe does, and nothing else: the arguments go on as written.
function expandSystemRoot(s) {
    var head = "\"%SystemRoot%\\";
    if (s.substring(0, head.length) != head) return s;
    return "\"" + expand("%SystemRoot%") + "\\" + s.substring(head.length);
}

// ------------------------------------------------------------- output --

function say(msg) {
    WScript.Echo(msg);
    if (LOGFILE) {
        // The log is ANSI text; what the code page lacks becomes "?".
        try { LOGFILE.WriteLine(localTime() + " " + String(msg).replace(/[^\t\x20-\x7e]/g, "?")); } catch (e) { }
    }
}

function note(msg) {
    say("note: " + msg);
    NOTES.push(msg);
}

function errText(e) {
    if (e && e.message) return e.message;
    if (e && e.number) return "error 0x" + (e.number >>> 0).toString(16).toUpperCase();
    return String(e);
}

// sleep waits. WScript.Sleep exists in every WSH since 5.1; Wine's WSH
// lacks it, and there ping (on every Windows) waits instead.
function sleep(seconds) {
    try {
        WScript.Sleep(seconds * 1000);
        return;
    } catch (e) { }
    sh.Run("\"" + expand("%SystemRoot%") + "\\System32\\ping.exe\" -n " + (seconds + 1) + " 127.0.0.1", 0, true);
}

// -------------------------------------------------------------- files --

function ensureFolder(p) {
    if (fso.FolderExists(p)) return;
    var parent = fso.GetParentFolderName(p);
    if (parent && !fso.FolderExists(parent)) ensureFolder(parent);
    fso.CreateFolder(p);
}

// readText reads a file as ANSI text, or as UTF-16 when unicode is true.
function readText(p, unicode) {
    var t = fso.OpenTextFile(p, 1, false, unicode ? -1 : 0);
    var s = t.AtEndOfStream ? "" : t.ReadAll();
    t.Close();
    return s;
}

// writeAtomic replaces p with text (ANSI, or UTF-16 when unicode is
// true): the text goes to p.tmp, the old file moves to p.bak, p.tmp moves
// into place, and p.bak goes. FSO cannot replace a file in one move, so
// a power cut at any point leaves p, or else p.bak (old, complete) and
// p.tmp (new, perhaps torn): loadJournal reads them in that order. (FSO
// cannot flush to disk; NTFS journals the renames.)
function writeAtomic(p, text, unicode) {
    var tmp = p + ".tmp", bak = p + ".bak";
    var t = fso.CreateTextFile(tmp, true, unicode === true);
    t.Write(text);
    t.Close();
    if (fso.FileExists(p)) {
        if (fso.FileExists(bak)) fso.DeleteFile(bak, true);
        fso.MoveFile(p, bak);
    }
    fso.MoveFile(tmp, p);
    if (fso.FileExists(bak)) fso.DeleteFile(bak, true);
}

function winPath(bundlePath) { return bundlePath.replace(/\//g, "\\"); }

function samePath(a, b) {
    return fso.GetAbsolutePathName(a).toLowerCase() == fso.GetAbsolutePathName(b).toLowerCase();
}

// runHidden runs a command line with no window and waits for it.
function runHidden(cmdline) {
    return sh.Run(cmdline, 0, true) >>> 0;
}

// cmdC is the start of a command line that runs the rest through cmd.exe:
// /d skips the AutoRun commands a registry entry may add, /v:off keeps !
// as typed. cmd /c "..." drops the outer quotes and runs the rest as typed.
function cmdC() {
    return "\"" + expand("%SystemRoot%") + "\\System32\\cmd.exe\" /d /v:off /c ";
}

// capture runs a System32 program with args, with no window, and returns
// {rc, out}: its exit code and what it printed, in the ANSI code page.
// The output goes through a file in TEMP: WSH on Wine cannot read a
// child's output.
function capture(program, args) {
    var out = expand("%TEMP%") + "\\fixstick-output.txt";
    if (fso.FileExists(out)) fso.DeleteFile(out, true);
    var rc = runHidden(cmdC() + "\"\"" + expand("%SystemRoot%") + "\\System32\\" + program + "\" " + args +
        " >\"" + out + "\" 2>&1\"");
    return { rc: rc, out: fso.FileExists(out) ? readText(out) : "" };
}

// ------------------------------------------------------------ SHA-256 --
// Windows XP ships no SHA-256 tool a script can call (no certutil
// -hashfile, no PowerShell, no .NET), so the hash is computed here. Bytes
// are read through FileSystemObject as text in the ANSI code page, and
// legacy\bytes.bin (the 256 byte values in order) tells which character
// each byte became. Code pages with two-byte characters (Chinese,
// Japanese, Korean) cannot be read this way: the check then refuses.

var SHA_K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];
var VERIFIED = {};   // bundle paths whose private copy this run has checked
var BYTE_OF = null;  // character code -> byte value
var CHAR_OF = null;  // byte value -> character

// calibrate reads bytes.bin; it returns "" or why bytes cannot be read.
function calibrate(p) {
    if (!fso.FileExists(p)) return p + " is missing";
    var t = fso.OpenTextFile(p, 1, false, 0);
    var s = t.Read(512);
    t.Close();
    if (s.length != 256) return "the code page turns 256 bytes into " + s.length + " characters";
    var byteOf = {}, charOf = [];
    for (var i = 0; i < 256; i++) {
        var c = s.charCodeAt(i);
        if (byteOf[c] !== undefined) return "the code page reads two bytes as the same character";
        byteOf[c] = i;
        charOf[i] = s.charAt(i);
    }
    BYTE_OF = [];
    for (var k in byteOf) BYTE_OF[k] = byteOf[k];
    CHAR_OF = charOf;
    return "";
}

// shaBlocks hashes the 64-byte blocks of s (length a multiple of 64) into H.
function shaBlocks(H, s) {
    var W = new Array(64), M = BYTE_OF, K = SHA_K;
    var a, b, c, d, e, f, g, h, i, j, p, t1, t2, x, y;
    var h0 = H[0], h1 = H[1], h2 = H[2], h3 = H[3], h4 = H[4], h5 = H[5], h6 = H[6], h7 = H[7];
    for (p = 0; p < s.length; p += 64) {
        for (i = 0, j = p; i < 16; i++, j += 4) {
            W[i] = (M[s.charCodeAt(j)] << 24) | (M[s.charCodeAt(j + 1)] << 16) |
                (M[s.charCodeAt(j + 2)] << 8) | M[s.charCodeAt(j + 3)];
        }
        for (i = 16; i < 64; i++) {
            x = W[i - 15];
            y = W[i - 2];
            W[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
                (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + W[i - 7] + W[i - 16] | 0;
        }
        a = h0; b = h1; c = h2; d = h3; e = h4; f = h5; g = h6; h = h7;
        for (i = 0; i < 64; i++) {
            t1 = h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
                ((e & f) ^ (~e & g)) + K[i] + W[i] | 0;
            t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
                ((a & b) ^ (a & c) ^ (b & c)) | 0;
            h = g; g = f; f = e; e = d + t1 | 0; d = c; c = b; b = a; a = t1 + t2 | 0;
        }
        h0 = h0 + a | 0; h1 = h1 + b | 0; h2 = h2 + c | 0; h3 = h3 + d | 0;
        h4 = h4 + e | 0; h5 = h5 + f | 0; h6 = h6 + g | 0; h7 = h7 + h | 0;
    }
    H[0] = h0; H[1] = h1; H[2] = h2; H[3] = h3; H[4] = h4; H[5] = h5; H[6] = h6; H[7] = h7;
}

// sha256File returns {sha, size} of the file at p.
function sha256File(p, label) {
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var CHUNK = 1048576, total = 0, rest = "", shown = 0, size = fso.GetFile(p).Size;
    var t = fso.OpenTextFile(p, 1, false, 0);
    while (!t.AtEndOfStream) {
        var s = t.Read(CHUNK);
        total += s.length;
        if (rest.length > 0) s = rest + s;
        var n = s.length - s.length % 64;
        shaBlocks(H, n == s.length ? s : s.substring(0, n));
        rest = s.substring(n);
        if (size > 33554432 && total - shown >= 33554432) {
            shown = total;
            say("      " + label + ": " + Math.floor(total / 1048576) + " of " + Math.floor(size / 1048576) + " MB checked");
        }
    }
    t.Close();
    var hi = Math.floor(total / 536870912), lo = (total * 8) >>> 0;
    var tail = rest + CHAR_OF[0x80];
    while (tail.length % 64 != 56) tail += CHAR_OF[0];
    var L = [hi >>> 24, (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255];
    for (var i = 0; i < 8; i++) tail += CHAR_OF[L[i]];
    shaBlocks(H, tail);
    var hex = "";
    for (i = 0; i < 8; i++) {
        var w = (H[i] >>> 0).toString(16);
        while (w.length < 8) w = "0" + w;
        hex += w;
    }
    return { sha: hex, size: total };
}

// checkFile returns "" when the file at p is the bundle file f, else why not.
function checkFile(p, f) {
    if (!fso.FileExists(p)) return f.path + ": missing";
    var size = fso.GetFile(p).Size;
    if (size != f.size) return f.path + ": size " + size + ", the lock says " + f.size + " (changed since the bundle was built)";
    var got = sha256File(p, f.path);
    if (got.sha != f.sha256) return f.path + ": sha256 " + got.sha + ", the lock says " + f.sha256 + " (changed since the bundle was built)";
    return "";
}

// lockBundleID reads the bundle id from bundle.lock.json in dir: the
// builder renders this executor before the id exists (the id is a digest
// of the lock, which lists this file), so the script knows only the
// manifest's id and takes the rest, "<manifest id>-<12 hex digits>", from
// the lock. It returns "" when the lock is missing or is another bundle's.
function lockBundleID(dir) {
    var p = dir + "\\bundle.lock.json";
    if (!fso.FileExists(p)) return "";
    var m = /^\s*"bundle":\s*"([^"]*)"/m.exec(readText(p));
    if (!m || m[1].length != BUNDLE.id.length + 13 || m[1].substring(0, BUNDLE.id.length + 1) != BUNDLE.id + "-" ||
        !/^[0-9a-f]{12}$/.test(m[1].substring(BUNDLE.id.length + 1))) return "";
    return m[1];
}

function lockFile(path) {
    for (var i = 0; i < FILES.length; i++) if (FILES[i].path == path) return FILES[i];
    return null;
}

// lockEntries reads the SHA-256 and size of every file the lock in dir
// lists, as {path: {path, sha256, size}}: the executor's own files are
// checked against them (this script cannot hold its own SHA-256).
function lockEntries(dir) {
    var text = readText(dir + "\\bundle.lock.json"), out = {}, m;
    var re = /\{\s*"path":\s*"([^"]*)",\s*"sha256":\s*"([0-9a-f]{64})",\s*"size":\s*([0-9]+)\s*\}/g;
    while ((m = re.exec(text)) !== null) out[m[1]] = { path: m[1], sha256: m[2], size: parseInt(m[3], 10) };
    return out;
}

// copyList lists what goes into the private copy as {from, to, f}: the
// payloads, the executor's own files (checked against the lock, since the
// run after a restart starts them), and the lock, as its bytes are now.
function copyList(src) {
    var list = [], i, entries = lockEntries(src);
    for (i = 0; i < FILES.length; i++) list.push(FILES[i]);
    for (i = 0; i < LEGACY_FILES.length; i++) {
        var p = "legacy/" + LEGACY_FILES[i];
        list.push(entries[p] ? entries[p] : { path: p, sha256: "", size: -1 });
    }
    var out = [];
    for (i = 0; i < list.length; i++) {
        out.push({ from: src + "\\" + winPath(list[i].path), to: P.bundle + "\\" + winPath(list[i].path), f: list[i] });
    }
    return out;
}

// copyBundle copies the payloads, the executor and the lock into the
// private folder; each file is read once and its copy checked against the
// lock. It returns the list of problems; nothing runs unless it is empty.
function copyBundle(src) {
    var problems = [], list = copyList(src), recs = [], i;
    var lock = src + "\\bundle.lock.json", h = hashFile(lock);
    list.push({ from: lock, to: P.bundle + "\\bundle.lock.json", f: { path: "bundle.lock.json", sha256: h.sha, size: h.size } });
    say("copying the bundle to " + P.bundle + " and checking every file (SHA-256" + (HAVE_SHA ? "" : ", in JScript: slow") + ")");
    if (!HAVE_SHA) return copyBundleSlow(list);
    for (i = 0; i < list.length; i++) {
        if (list[i].f.size < 0) problems.push(list[i].f.path + ": the lock does not list it");
        else recs.push([list[i].from, list[i].to, list[i].f.sha256, String(list[i].f.size)]);
    }
    if (problems.length > 0) return problems;
    var r = helper("copy", recs, false);
    for (i = 0; i < r.records.length; i++) {
        var x = r.records[i];
        if (x[0] == "bad") problems.push(bundlePath(x[1]) + ": " + x[2] + (/^(size|sha256) /.test(x[2]) ? " (changed since the bundle was built)" : ""));
        else if (x[0] == "error") problems.push(x.slice(1).join(" "));
    }
    if (problems.length == 0 && r.rc != 0) problems.push("the helper could not copy the bundle (exit code " + r.rc + ")");
    return problems;
}

// bundlePath turns a path in the private copy back into the bundle's.
function bundlePath(p) {
    return p.substring(0, P.bundle.length + 1).toLowerCase() == (P.bundle + "\\").toLowerCase() ?
        p.substring(P.bundle.length + 1).replace(/\\/g, "/") : p;
}

// copyBundleSlow is copyBundle where CryptoAPI has no SHA-256 (XP before
// SP3): each copy is checked in JScript, at about 300 KB/s.
function copyBundleSlow(list) {
    var problems = [];
    for (var i = 0; i < list.length; i++) {
        var c = list[i];
        if (c.f.size < 0) {
            problems.push(c.f.path + ": the lock does not list it");
            continue;
        }
        if (!fso.FileExists(c.from)) {
            problems.push(c.f.path + ": missing");
            continue;
        }
        ensureFolder(fso.GetParentFolderName(c.to));
        var part = c.to + ".part";
        fso.CopyFile(c.from, part, true);
        say("    checking " + c.f.path);
        var why = checkFile(part, c.f);
        if (why != "") {
            fso.DeleteFile(part, true);
            problems.push(why);
            continue;
        }
        VERIFIED[c.f.path] = true;
        if (fso.FileExists(c.to)) fso.DeleteFile(c.to, true);
        fso.MoveFile(part, c.to);
    }
    return problems;
}

// ------------------------------------------------------------- helper --
// The native helper takes a request file and writes a response file, both
// UTF-16 text, one record a line, fields separated by tabs: paths and
// command lines never pass through a command line, where WSH would expand
// %VARIABLES%.

var HELPER = "";     // the checked copy of the helper this run uses
var HAVE_SHA = true; // CryptoAPI has SHA-256 here (XP SP3 and later)

function machineArch() {
    var arch = String(expand("%PROCESSOR_ARCHITECTURE%")).toUpperCase();
    var wow = String(expand("%PROCESSOR_ARCHITEW6432%")).toUpperCase();
    return wow.indexOf("%") < 0 && wow != "" ? wow : arch;
}

function tempName(what) { return expand("%TEMP%") + "\\" + PRODUCT + "-" + (ID || BUNDLE.id) + "-" + what; }

// startHelper copies this computer's helper from the bundle folder dir to
// the administrator's TEMP folder (which no limited user can write),
// checks that copy in JScript against the SHA-256 and size this script
// holds, and uses it from then on. It returns "" or why not.
function startHelper(dir) {
    var h = HELPERS[machineArch() == "X86" ? "x86" : "x64"];
    var src = dir + "\\" + winPath(h.path), dst = tempName(fso.GetFileName(src));
    if (!fso.FileExists(src)) return h.path + ": missing";
    var why = calibrate(dir + "\\legacy\\bytes.bin");
    if (why != "") return "this computer cannot check the bundle's SHA-256 hashes (" + why + ")";
    fso.CopyFile(src, dst, true);
    why = checkFile(dst, h);
    if (why != "") return why;
    HELPER = dst;
    var r = helper("sha256", [["file", dst]], false);
    HAVE_SHA = r.rc != 3;
    if (!HAVE_SHA) {
        note("this Windows has no SHA-256 in CryptoAPI (XP before SP3): files are checked in JScript, which is slow " +
            "(minutes for large files); installing XP SP3 makes it fast");
    }
    return "";
}

// helper runs the helper's command with records (arrays of fields) and
// returns {rc, records}: its exit code and its response, as arrays.
function helper(command, records, show) {
    var req = tempName("request.txt"), res = tempName("response.txt"), lines = [command], i;
    for (i = 0; i < records.length; i++) lines.push(records[i].join("\t"));
    var t = fso.CreateTextFile(req, true, true);
    t.Write(lines.join("\r\n") + "\r\n");
    t.Close();
    if (fso.FileExists(res)) fso.DeleteFile(res, true);
    var rc = sh.Run("\"" + HELPER + "\" \"" + req + "\" \"" + res + "\"", show ? 1 : 0, true) >>> 0;
    var out = [];
    if (fso.FileExists(res)) {
        lines = readText(res, true).replace(/^\ufeff/, "").split(/\r?\n/);
        for (i = 0; i < lines.length; i++) if (lines[i] != "") out.push(lines[i].split("\t"));
    }
    if (rc == 2) throw new Error("the helper did not understand its " + command + " request: " + lines.join("; "));
    return { rc: rc, records: out };
}

// hashFile returns {sha, size} of the file at p, by the helper where it
// can, else in JScript.
function hashFile(p) {
    if (HAVE_SHA) {
        var r = helper("sha256", [["file", p]], false);
        for (var i = 0; i < r.records.length; i++) {
            var x = r.records[i];
            if (x[0] == "sha256") return { sha: x[1], size: parseFloat(x[2]), ms: parseFloat(x[3]) };
            if (x[0] == "error") throw new Error(x.slice(1).join(" "));
        }
        if (r.rc != 3) throw new Error("the helper could not hash " + p + " (exit code " + r.rc + ")");
        HAVE_SHA = false;
    }
    var t0 = new Date().getTime(), s = sha256File(p, p);
    return { sha: s.sha, size: s.size, ms: new Date().getTime() - t0 };
}

// ----------------------------------------------------- private folder --

var PRIVATE_ROOT = "";

// privateRoot is the all-users application data folder's fixstick: as
// Windows names it (SHGetFolderPath, CSIDL_COMMON_APPDATA): "All Users\
// Application Data" on XP, translated ("Anwendungsdaten"), and ProgramData
// on Vista and later, as runner.exe's.
function privateRoot() {
    if (PRIVATE_ROOT != "") return PRIVATE_ROOT;
    var r = helper("appdata", [], false);
    for (var i = 0; i < r.records.length; i++) if (r.records[i][0] == "appdata") PRIVATE_ROOT = r.records[i][1] + "\\" + PRODUCT;
    if (PRIVATE_ROOT == "") throw new Error("the helper did not find the all-users application data folder (exit code " + r.rc + ")");
    return PRIVATE_ROOT;
}

// takeOver makes the private folder private on every run, as runner.exe
// does, through the helper, by SID: a folder someone else owns, or a
// junction, is moved aside and nothing in it is trusted; otherwise
// Administrators become the owner of everything in it, with only SYSTEM
// and Administrators let in; everything is read back; a junction or link
// inside is refused; and files of the private copy that the lock does not
// list are deleted. It returns "" or why the folder is not private.
function takeOver() {
    var recs = [["root", privateRoot()], ["bundle", P.root], ["keep-dir", P.bundle], ["keep", "bundle.lock.json"]], i;
    for (i = 0; i < FILES.length; i++) recs.push(["keep", winPath(FILES[i].path)]);
    for (i = 0; i < LEGACY_FILES.length; i++) recs.push(["keep", "legacy\\" + LEGACY_FILES[i]]);
    var r = helper("takeover", recs, false), problems = [];
    for (i = 0; i < r.records.length; i++) {
        var x = r.records[i];
        if (x[0] == "moved") note(x[1] + " was not private (someone else owned it, or it was a junction): moved aside as " + x[2] + ", and nothing in it is used");
        else if (x[0] == "removed") note("removed " + x[1] + " from the private copy: the lock does not list it");
        else if (x[0] == "refused") problems.push(x[1] + ": " + x[2]);
        else if (x[0] == "error") problems.push(x.slice(1).join(" "));
    }
    if (r.rc != 0 && problems.length == 0) problems.push("the helper failed (exit code " + r.rc + ")");
    return r.rc == 0 ? "" : problems.join("; ");
}

// ------------------------------------------------------------ registry --
// Read through reg.exe, which every Windows since XP has: one reader for
// both registry views, with the value's type. reg's output goes to a file
// in the administrator's TEMP folder (WSH on Wine cannot read a child's
// output; and the private folder's place depends on the Windows version,
// which is read from the registry).

var REG_CACHE = {};

// viewFlag is reg.exe's switch for a view: none on 32-bit Windows (one
// view), none for the view this script runs in.
function viewFlag(view) {
    if (!OS.is64) return "";
    if (OS.wow) return view == 64 ? " /reg:64" : "";
    return view == 32 ? " /reg:32" : "";
}

var VIEWS_CHECKED = false;

// regQuery runs reg query with args and returns null (not found) or the
// value lines as [{name, type, data}]. It throws when reg.exe cannot read
// the other view: the reg.exe of XP x64 and Server 2003 knows /reg:32 and
// /reg:64 only with a hotfix, and refuses them as it refuses a key that
// does not exist (exit code 1, translated text).
function regQuery(args) {
    var r = capture("reg.exe", "query " + args);
    if (r.rc != 0 && !VIEWS_CHECKED && / \/reg:(32|64)$/.test(args)) {
        var flag = args.substring(args.length - 7);
        if (capture("reg.exe", "query \"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\" /v CurrentVersion " + flag).rc != 0) {
            throw new Error("reg.exe on this computer cannot read the " + flag.substring(5) + "-bit registry view (reg query " +
                flag + " says: " + trim(r.out) + "); install the reg.exe hotfix for /reg:32 and /reg:64, or run the " +
                "bundle on a computer whose reg.exe has them");
        }
        VIEWS_CHECKED = true;
    }
    if (r.rc != 0) return null;
    var lines = r.out.split(/\r?\n/), vals = [];
    for (var i = 0; i < lines.length; i++) {
        var m = /^(\s+)(.*?)\s+(REG_[A-Z0-9_]+)(.*)$/.exec(lines[i]);
        if (!m) continue;
        // reg.exe separates the columns with a tab on XP, four spaces later.
        var data = m[4].replace(/^(\t| {1,4})/, "");
        vals.push({ name: m[2], type: m[3], data: data });
    }
    return vals;
}

// regKey returns the values of a key in a view (null: no such key).
function regKey(key, view) {
    var id = view + ":" + key.toLowerCase();
    if (REG_CACHE[id] === undefined) REG_CACHE[id] = regQuery("\"" + key + "\"" + viewFlag(view));
    return REG_CACHE[id];
}

// regValue reads a value as runner.exe does: {str, num, isNum, numeric},
// or null when the key or value does not exist. Value "" is the default.
function regValue(key, value, view) {
    var v = null, i;
    if (value == "") {
        var d = regQuery("\"" + key + "\" /ve" + viewFlag(view));
        // English Vista and later say "(value not set)" for a default
        // value that does not exist; XP's reg.exe prints it as empty, so
        // there an empty default counts as not set.
        if (d && d.length > 0 && d[0].data != "(value not set)" && !(OS.major < 6 && d[0].data == "")) v = d[0];
    } else {
        var vals = regKey(key, view);
        if (vals === null) return null;
        for (i = 0; i < vals.length; i++) {
            if (vals[i].name.toLowerCase() == value.toLowerCase()) {
                v = vals[i];
                break;
            }
        }
    }
    if (v === null) return null;
    var r = { str: v.data, num: 0, isNum: false, numeric: false };
    if (v.type == "REG_DWORD" || v.type == "REG_QWORD") {
        r.numeric = r.isNum = true;
        r.num = parseInt(v.data, 16);
        r.str = String(r.num);
    } else if ((v.type == "REG_SZ" || v.type == "REG_EXPAND_SZ") && /^[0-9]+$/.test(v.data)) {
        r.isNum = true;
        r.num = parseInt(v.data, 10);
    }
    return r;
}

function regKeyExists(key, view) { return regKey(key, view) !== null; }

// ------------------------------------------------------------ Windows --

function osInfo() {
    var wow = String(expand("%PROCESSOR_ARCHITEW6432%")).toUpperCase();
    var machine = machineArch();
    var info = {
        arch: machine == "AMD64" ? "x64" : machine == "ARM64" ? "arm64" : machine == "IA64" ? "ia64" : "x86",
        wow: wow.indexOf("%") < 0 && wow != "",
        major: 0, minor: 0, build: "", sp: ""
    };
    info.is64 = info.arch != "x86";
    OS = info; // viewFlag needs is64 and wow
    var k = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
    var maj = regValue(k, "CurrentMajorVersionNumber", 64), min = regValue(k, "CurrentMinorVersionNumber", 64);
    if (maj && min && maj.isNum) {
        info.major = maj.num;
        info.minor = min.num;
    } else {
        var cv = regValue(k, "CurrentVersion", 64);
        var parts = cv ? cv.str.split(".") : ["0", "0"];
        info.major = parseInt(parts[0], 10) || 0;
        info.minor = parseInt(parts[1], 10) || 0;
    }
    var b = regValue(k, "CurrentBuildNumber", 64), sp = regValue(k, "CSDVersion", 64);
    info.build = b ? b.str : "";
    info.sp = sp ? sp.str : "";
    return info;
}

function parseVersion(s) {
    var parts = trim(s).split("."), v = [];
    for (var i = 0; i < parts.length; i++) {
        if (!/^[0-9]+$/.test(parts[i])) return null;
        v.push(parseInt(parts[i], 10));
    }
    return v;
}

function compareVersions(a, b) {
    for (var i = 0; i < a.length || i < b.length; i++) {
        var x = i < a.length ? a[i] : 0, y = i < b.length ? b[i] : 0;
        if (x < y) return -1;
        if (x > y) return 1;
    }
    return 0;
}

// parseNum reads a decimal or 0x-prefixed hex number, or returns null.
function parseNum(s) {
    s = trim(s).toLowerCase();
    if (/^0x[0-9a-f]+$/.test(s)) return parseInt(s.substring(2), 16);
    if (/^[0-9]+$/.test(s)) return parseInt(s, 10);
    return null;
}

// ---------------------------------------------------------- conditions --
// Conditions have the lock's shape; evalCond decides them as runner.exe
// does, and throws when the machine cannot be asked.

var FACTS = {}, FACTS_KNOWN = false;

function evalCond(c) {
    var i;
    if (c.recorded !== undefined) {
        if (!FACTS_KNOWN) throw new Error("condition \"" + c.recorded + "\": no detect step has recorded facts before this step");
        return FACTS[c.recorded] === true;
    }
    if (c.registry !== undefined) return evalRegistry(c.registry);
    if (c.os !== undefined) return evalOS(c.os);
    if (c.file !== undefined) return evalFile(c.file);
    if (c.all !== undefined) {
        for (i = 0; i < c.all.length; i++) if (!evalCond(c.all[i])) return false;
        return true;
    }
    if (c.any !== undefined) {
        for (i = 0; i < c.any.length; i++) if (evalCond(c.any[i])) return true;
        return false;
    }
    if (c.not !== undefined) return !evalCond(c.not);
    throw new Error("empty condition");
}

function evalRegistry(r) {
    var view = r.view ? r.view : 64;
    if (r.exists !== undefined && (r.value === undefined || r.value == "")) return regKeyExists(r.key, view) == r.exists;
    var v = regValue(r.key, r.value === undefined ? "" : r.value, view);
    if (v === null) return r.exists !== undefined && !r.exists;
    if (r.exists !== undefined) return r.exists;
    if (r.min !== undefined) return v.isNum && v.num >= r.min;
    if (r.equals !== undefined) {
        if (v.numeric) {
            var n = parseNum(r.equals);
            return n !== null && n == v.num;
        }
        return v.str == r.equals;
    }
    throw new Error("registry condition on " + r.key + ": no equals, min or exists");
}

function evalOS(o) {
    var have = [OS.major, OS.minor];
    if (o.min !== undefined && compareVersions(have, parseVersion(o.min)) < 0) return false;
    if (o.max !== undefined && compareVersions(have, parseVersion(o.max)) > 0) return false;
    if (o.arch !== undefined && o.arch != OS.arch) return false;
    return true;
}

function evalFile(f) {
    var p = expand(f.path);
    if (!fso.FileExists(p)) return false;
    if (f.min_version === undefined) return true;
    var v = String(fso.GetFileVersion(p));
    if (v == "") throw new Error("reading the version of " + f.path + ": the file has no version");
    var have = parseVersion(v);
    if (have === null) return false;
    return compareVersions(have, parseVersion(f.min_version)) >= 0;
}

// ------------------------------------------------------------- detect --

// detectNetFx returns the netfx facts true on this machine, in version
// order, reading each key in both registry views (KB318785), and the
// files that show a version whose key is gone, as runner.exe does.
function detectNetFx() {
    var facts = [], seen = {}, i;
    var views = OS.is64 ? [64, 32] : [64]; // 32-bit Windows has one view
    for (i = 0; i < NETFX_RULES.length; i++) {
        var r = NETFX_RULES[i];
        if (seen[r.fact]) continue;
        for (var k = 0; k < views.length; k++) {
            var v = regValue(r.key, r.value, views[k]);
            if (v !== null && v.isNum && v.num >= r.min) {
                seen[r.fact] = true;
                break;
            }
        }
    }
    for (i = 0; i < NETFX_FILES.length; i++) {
        if (fso.FileExists(expand(NETFX_FILES[i].path))) seen[NETFX_FILES[i].fact] = true;
    }
    for (i = 0; i < NETFX_RULES.length; i++) {
        var f = NETFX_RULES[i].fact;
        if (seen[f] === true) {
            facts.push(f);
            seen[f] = "listed";
        }
    }
    return facts;
}

function describeFacts(facts) {
    if (facts.length == 0) return "none";
    var out = [];
    for (var i = 0; i < facts.length; i++) {
        var t = FACT_TITLES[facts[i]];
        out.push(t ? t + " (" + facts[i] + ")" : facts[i]);
    }
    return out.join(", ");
}

// ------------------------------------------------------------ journal --
// One line per record, tab-separated, ending with "end" so that a torn
// write is seen. Reasons never hold tabs or line breaks.

function clean(s) { return String(s).replace(/[\t\r\n]+/g, " "); }

function newJournal() {
    return { bundle: ID, origin: "", computer: "", created: now(), facts: [], factsRecorded: false,
        reboots: 0, awaiting: false, options: "", gated: false, goalBefore: "", steps: {} };
}

function jstep(id) {
    if (!J.steps[id]) J.steps[id] = { state: "", status: "", exit: "", attempts: 0, interrupted: 0, log: "", reason: "",
        tolerated: false, goalChecked: false };
    return J.steps[id];
}

function saveJournal() {
    var L = ["fixstick-legacy-journal\t1", "bundle\t" + J.bundle, "origin\t" + clean(J.origin), "computer\t" + clean(computerName()),
        "created\t" + J.created,
        "facts-recorded\t" + (J.factsRecorded ? 1 : 0), "facts\t" + J.facts.join(" "), "reboots\t" + J.reboots,
        "awaiting-reboot\t" + (J.awaiting ? 1 : 0), "options\t" + J.options,
        "gated\t" + (J.gated ? 1 : 0), "goal-before\t" + J.goalBefore];
    for (var i = 0; i < STEPS.length; i++) {
        var s = J.steps[STEPS[i].id];
        if (!s) continue;
        L.push(["step", STEPS[i].id, s.state, s.status, s.exit, s.attempts, s.interrupted, clean(s.log), clean(s.reason),
            s.tolerated ? 1 : 0, s.goalChecked ? 1 : 0].join("\t"));
    }
    L.push("end");
    // UTF-16: the paths and reasons it holds may use any character.
    writeAtomic(P.journal, L.join("\r\n") + "\r\n", true);
}

// parseJournal returns the journal in text, or null when it is torn.
function parseJournal(text) {
    var lines = text.split(/\r?\n/), j = newJournal(), ended = false;
    if (lines[0] != "fixstick-legacy-journal\t1") return null;
    for (var i = 1; i < lines.length; i++) {
        var f = lines[i].split("\t");
        switch (f[0]) {
            case "bundle": j.bundle = f[1]; break;
            case "origin": j.origin = f[1]; break;
            case "computer": j.computer = f[1]; break;
            case "created": j.created = f[1]; break;
            case "facts-recorded": j.factsRecorded = f[1] == "1"; break;
            case "facts": j.facts = f[1] == "" ? [] : f[1].split(" "); break;
            case "reboots": j.reboots = parseInt(f[1], 10) || 0; break;
            case "awaiting-reboot": j.awaiting = f[1] == "1"; break;
            case "options": j.options = f[1]; break;
            case "gated": j.gated = f[1] == "1"; break;
            case "goal-before": j.goalBefore = f[1]; break;
            case "step":
                j.steps[f[1]] = { state: f[2], status: f[3], exit: f[4], attempts: parseInt(f[5], 10) || 0,
                    interrupted: parseInt(f[6], 10) || 0, log: f[7], reason: f[8], tolerated: f[9] == "1", goalChecked: f[10] == "1" };
                break;
            case "end": ended = true; break;
        }
    }
    return ended ? j : null;
}

// loadJournal reads the journal; after a power cut during a save (see
// writeAtomic) the new copy is used when complete, else the old one.
function loadJournal() {
    var files = [P.journal, P.journal + ".tmp", P.journal + ".bak"];
    for (var i = 0; i < files.length; i++) {
        if (!fso.FileExists(files[i])) continue;
        var j = parseJournal(readText(files[i], true));
        if (j !== null) return j;
    }
    if (fso.FileExists(P.journal)) {
        throw new Error("journal " + P.journal + " is damaged: move it away to start the bundle from the beginning");
    }
    return null;
}

// ------------------------------------------------------------- report --

function reportJSON() {
    var facts = [];
    for (var i = 0; i < J.facts.length; i++) facts.push(jsonString(J.facts[i]));
    var steps = [];
    for (i = 0; i < STEPS.length; i++) {
        var st = STEPS[i], s = J.steps[st.id], status = "not-run", reason = "", exit = "", log = "", tolerated = false;
        if (s) {
            if (s.state == "done") status = s.status;
            else if (s.state == "started") reason = "started, not finished";
            if (s.reason != "") reason = s.reason;
            exit = s.exit;
            log = s.log;
            tolerated = s.tolerated && status == "failed";
            if (s.interrupted > 0) reason = (reason + "; run again after " + s.interrupted + " interrupted run(s)").replace(/^; /, "");
        }
        if (status == "not-run" && GATE_SKIP != "") {
            status = "skipped";
            reason = GATE_SKIP;
        }
        var line = "    {\n      \"id\": " + jsonString(st.id) + ",\n      \"status\": " + jsonString(status);
        if (tolerated) line += ",\n      \"tolerated\": true";
        if (exit !== "") {
            var c = parseFloat(exit);
            line += ",\n      \"exit_code\": " + c + ",\n      \"exit_hex\": " + jsonString("0x" + c.toString(16).toUpperCase());
        }
        if (reason != "") line += ",\n      \"reason\": " + jsonString(reason);
        if (log != "") line += ",\n      \"log\": " + jsonString(log);
        steps.push(line + "\n    }");
    }
    var reason = REPORT.reason;
    if (NOTES.length > 0) reason = (reason + "; " + NOTES.join("; ")).replace(/^; /, "");
    var out = "{\n  \"bundle\": " + jsonString(ID) +
        ",\n  \"computer\": " + jsonString(computerName()) +
        ",\n  \"runner\": " + jsonString("legacy " + BUNDLE.builder) +
        ",\n  \"outcome\": " + jsonString(REPORT.outcome);
    if (reason != "") out += ",\n  \"reason\": " + jsonString(reason);
    if (BUNDLE.goal !== null && GOAL.before !== null) {
        out += ",\n  \"goal\": {\n    \"text\": " + jsonString(BUNDLE.goalText) + ",\n    \"before\": " + GOAL.before;
        if (GOAL.after !== null) out += ",\n    \"after\": " + GOAL.after;
        out += "\n  }";
    }
    out += ",\n  \"started\": " + jsonString(REPORT.started) + ",\n  \"finished\": " + jsonString(now());
    if (facts.length > 0) out += ",\n  \"facts\": [" + facts.join(", ") + "]";
    return out + ",\n  \"steps\": [" + (steps.length ? "\n" + steps.join(",\n") + "\n  " : "") + "]\n}\n";
}

// computerName names this computer in reports, as the first run saw it:
// the run after a restart may lack %COMPUTERNAME% (it does on Wine).
function computerName() {
    if (J && J.computer) return J.computer;
    var n = expand("%COMPUTERNAME%");
    if (n.indexOf("%") >= 0) n = "";
    if (n == "") {
        try { n = String(WScript.CreateObject("WScript.Network").ComputerName); } catch (e) { }
    }
    if (n == "" && OS !== null) {
        var v = regValue("HKLM\\SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ComputerName", "ComputerName", 64);
        if (v !== null) n = v.str;
    }
    if (J && n != "") J.computer = n;
    return n;
}

// reportFolder is the folder name for a computer's reports; a name that
// Windows would not accept as a folder becomes "unknown".
function reportFolder(name) {
    if (name == "" || /[\\\/:*?"<>|\u0000-\u001f]/.test(name) || /[. ]$/.test(name) ||
        /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i.test(name)) return "unknown";
    return name;
}

// writeReport writes report.json into the private folder and, with the
// log, under reports\<COMPUTERNAME>\ in the folder the run started from.
function writeReport(origin) {
    var text = reportJSON();
    if (P.root && fso.FolderExists(P.root)) {
        try { writeAtomic(P.root + "\\" + REPORT_NAME, text); } catch (e) { say("warning: writing the report: " + errText(e)); }
    }
    if (!origin || HELPER == "") return;
    // Only into the folder the run started from, while it holds this
    // bundle's lock (the private copy's, or before there is one, the lock
    // this run read there), never through a junction, never making that
    // folder again: the helper checks all of it.
    try {
        var src = P.root && fso.FolderExists(P.root) ? P.root + "\\" + REPORT_NAME : tempName(REPORT_NAME);
        if (src != P.root + "\\" + REPORT_NAME) writeAtomic(src, text);
        var lock = P.bundle && fso.FileExists(P.bundle + "\\bundle.lock.json") ? P.bundle + "\\bundle.lock.json" : origin + "\\bundle.lock.json";
        var recs = [["origin", origin], ["lock", lock], ["folder", reportFolder(computerName())], ["file", src, REPORT_NAME]];
        if (P.log && fso.FileExists(P.log)) {
            if (LOGFILE) LOGFILE.Close();
            LOGFILE = null;
            recs.push(["file", P.log, LOG_NAME]);
        }
        var r = helper("writeback", recs, false);
        if (r.rc != 0) {
            var why = [];
            for (var i = 0; i < r.records.length; i++) if (r.records[i][0] != "wrote") why.push(r.records[i].slice(1).join(" "));
            say("note: the report was not written into the bundle folder (" + why.join("; ") + "); it is in " + (P.root || src));
        }
    } catch (e) {
        say("note: could not write the report into the bundle folder (" + errText(e) + "); it is in " + P.root);
    }
}

// ------------------------------------------------------------- RunOnce --

var RUNONCE = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RunOnce";

// reg runs reg.exe with args (writes: WSH's RegDelete is missing on Wine)
// and returns its exit code.
function reg(args) {
    return runHidden("\"" + expand("%SystemRoot%") + "\\System32\\reg.exe\" " + args);
}

// setRunOnce registers (command != "") or removes (command == "") the
// machine-wide RunOnce entry that resumes this bundle. It throws when the
// entry cannot be written.
function setRunOnce(command) {
    var name = PRODUCT + "-" + ID;
    if (command == "") {
        reg("delete \"" + RUNONCE + "\" /v \"" + name + "\" /f");
        return;
    }
    // Windows runs RunOnce commands of at most 260 characters; Render
    // refuses ids that make it longer with the usual folder names.
    if (command.length > 260) throw new Error("the command that continues the run is " + command.length +
        " characters long, and Windows runs RunOnce commands of at most 260: " + command);
    // reg add takes the data as one argument: its quotes are escaped with
    // a backslash. Runs of backslashes before a quote would need doubling;
    // the command has none there.
    var rc = reg("add \"" + RUNONCE + "\" /v \"" + name + "\" /t REG_SZ /d \"" + command.replace(/"/g, "\\\"") + "\" /f");
    if (rc != 0) throw new Error("reg add " + RUNONCE + " failed with exit code " + rc);
}

// pendingReboot lists why Windows says a restart is pending.
function pendingReboot() {
    var why = [];
    var sm = regValue("HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager", "PendingFileRenameOperations", 64);
    if (sm !== null && sm.str != "") why.push("files wait to be replaced (PendingFileRenameOperations)");
    if (regKeyExists("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending", 64)) {
        why.push("Component Based Servicing");
    }
    if (regKeyExists("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired", 64)) {
        why.push("Windows Update");
    }
    return why;
}

// ---------------------------------------------------------------- run --

function fail(st, js, reason) {
    REPORT.outcome = "failed";
    REPORT.reason = "step " + st.id + " failed: " + reason;
    done(js, "failed", reason);
}

// failStep records a program's failure and returns true to end the run,
// unless the step tolerates it (on_failure: continue).
function failStep(st, js, reason) {
    if (st.onFailure != "continue") {
        fail(st, js, reason);
        return true;
    }
    js.tolerated = true;
    say("    (tolerated: on_failure is continue, so the run goes on)");
    done(js, "failed", reason);
    return false;
}

function done(js, status, reason) {
    js.state = "done";
    js.status = status;
    js.reason = reason;
    say("    " + status + (reason ? ": " + reason : ""));
    saveJournal();
}

// decide evaluates when and unless: it returns "" to run the step, or why
// not. It throws when a condition cannot be decided.
function decide(st) {
    REG_CACHE = {}; // installers change the registry: read it afresh
    if (st.when !== null && !evalCond(st.when)) return "runs only if " + st.whenText + ", which is not the case";
    if (st.unless !== null && evalCond(st.unless)) return "not needed: " + st.unlessText;
    return "";
}

// classify returns [outcome, text] for an exit code, as runner.exe does.
function classify(st, code) {
    var r = st.codes[String(code)];
    if (!r) r = ["failure", ""];
    if (r[0] == "failure" && r[1] == "") r = ["failure", explainCode(code)];
    return r;
}

function succeeded(outcome) {
    return outcome == "success" || outcome == "reboot" || outcome == "reboot-initiated" || outcome == "already-installed";
}

// execStep runs a step's program until its outcome is not "retry" or the
// retries run out. It returns {code, outcome, text}, or throws with the
// reason the program could not run.
function execStep(i, st, js) {
    var program = P.bundle + "\\" + winPath(st.program);
    var cmd = expandSystemRoot(st.cmd.join(P.root));
    if (st.log != "") ensureFolder(P.logs);
    ensureFolder(P.work);
    var f = lockFile(st.program);
    var wait = RETRY_FIRST, first = new Date().getTime();
    for (;;) {
        js.state = "started";
        js.attempts++;
        saveJournal();
        say("    running " + cmd);
        var code = runProgram(st, program, f, cmd, P.work + "\\" + (i + 1));
        var r = classify(st, code);
        if (r[0] != "retry") return { code: code, outcome: r[0], text: r[1] };
        if ((new Date().getTime() - first) / 1000 + wait > RETRY_FOR) {
            return { code: code, outcome: "failure", text: explainCode(code) + "; still so after retrying for " + durationString(RETRY_FOR) };
        }
        say("    exit code " + codeString(code) + ": " + explainCode(code) + "; trying again in " + wait + "s");
        sleep(wait);
        wait = Math.min(2 * wait, RETRY_MAX_WAIT);
    }
}

// runProgram runs a step's program once through the helper, as runner.exe
// does: the private copy checked again through a handle that lets others
// only read, held until the program has started (for msiexec and wusa,
// until they end); the command line passed verbatim; a fresh, empty
// working folder work (nothing can be planted next to the installer); a
// kill-on-close job object, so the helper waits for the processes the
// program starts, and at the timeout ends them all (never by name). While
// it runs, the helper shows the time against the timeout in the window's
// title and in the log, once a minute. It returns the exit code.
function runProgram(st, program, f, cmd, work) {
    var seconds = st.timeout > 0 ? st.timeout : DEFAULT_TIMEOUT, sys32 = expand("%SystemRoot%") + "\\System32\\";
    var app = st.kind == "msi" || st.kind == "msp" ? sys32 + "msiexec.exe" : st.kind == "msu" ? sys32 + "wusa.exe" : program;
    var sha = f.sha256;
    if (!HAVE_SHA) {
        // the helper cannot hash here: the copy was checked in JScript
        // (again after a restart), and the helper only holds it
        if (!VERIFIED[st.program]) {
            say("    checking " + st.program);
            var why = checkFile(program, f);
            if (why != "") throw new Error("the private copy changed before it ran: " + why);
            VERIFIED[st.program] = true;
        }
        sha = "-";
    }
    if (LOGFILE) LOGFILE.Close();
    LOGFILE = null;
    var r;
    try {
        r = helper("run", [["program", program, sha, String(f.size)], ["app", app], ["cmdline", cmd], ["dir", work],
            ["timeout", String(seconds)], ["hold", st.kind == "exe" ? "start" : "exit"], ["log", P.log],
            ["label", "step " + st.id], ["heartbeat", String(HEARTBEAT)]], true);
    } finally {
        LOGFILE = fso.OpenTextFile(P.log, 8, true, 0);
    }
    var errors = [];
    for (var i = 0; i < r.records.length; i++) {
        var x = r.records[i];
        if (x[0] == "exit") return parseFloat(x[1]);
        if (x[0] == "timeout") {
            throw new Error("did not finish within " + durationString(seconds) + "; the executor stopped it and every process it started");
        }
        if (x[0] == "bad") throw new Error("the private copy changed before it ran: " + st.program);
        if (x[0] == "error") errors.push(x.slice(1).join(" "));
    }
    throw new Error("the helper could not run the program" + (errors.length ? ": " + errors.join("; ") : " (exit code " + r.rc + ")"));
}

// durationString writes seconds as Go writes a time.Duration: 1h30m0s.
function durationString(sec) {
    var h = Math.floor(sec / 3600), m = Math.floor(sec % 3600 / 60), x = sec % 60;
    if (h > 0) return h + "h" + m + "m" + x + "s";
    if (m > 0) return m + "m" + x + "s";
    return x + "s";
}

// runStep runs one step; it returns true when the run must stop here.
function runStep(i, st, js) {
    if (st.skip != "") {
        done(js, "skipped", st.skip);
        return false;
    }
    if (st.kind == "detect") {
        if (J.factsRecorded) {
            done(js, "succeeded", "recorded earlier: " + describeFacts(J.facts));
            return false;
        }
        REG_CACHE = {};
        var facts = detectNetFx();
        J.facts = facts;
        J.factsRecorded = true;
        setFacts(facts);
        done(js, "succeeded", "recorded: " + describeFacts(facts));
        return false;
    }
    var why;
    try {
        why = decide(st);
    } catch (e) {
        fail(st, js, "checking the step's condition: " + errText(e));
        return true;
    }
    if (why != "") {
        done(js, "skipped", why);
        return false;
    }
    var res;
    try {
        res = execStep(i, st, js);
    } catch (e) {
        return failStep(st, js, errText(e));
    }
    var logPath = st.log != "" ? P.logs + "\\" + st.log : "";
    js.exit = String(res.code);
    js.log = logPath;
    if (!succeeded(res.outcome)) {
        return failStep(st, js, codeString(res.code) + ": " + res.text + (logPath ? "; log: " + logPath : ""));
    }
    var reason = "exit code " + codeString(res.code) + ": " + res.outcome;
    var wantsReboot = res.outcome == "reboot" || res.outcome == "reboot-initiated";
    if (st.reboot == "after") {
        wantsReboot = true;
        reason += "; the step restarts the computer afterwards";
    } else if (st.reboot == "never" && res.outcome == "reboot") {
        wantsReboot = false;
        reason += "; the step says not to restart now";
        note("step " + st.id + " asked for a restart, and the bundle goes on without one: restart the computer when the run ends");
    }
    if (!wantsReboot) {
        done(js, "succeeded", reason);
        return false;
    }
    var last = i == STEPS.length - 1;
    if (last) {
        REPORT.outcome = "reboot-required";
        REPORT.reason = "all steps ran; restart the computer to complete the last one";
    } else if (J.reboots >= MAX_REBOOTS) {
        REPORT.outcome = "failed";
        REPORT.reason = "the bundle asked for more than " + MAX_REBOOTS + " restarts; the runner stopped to avoid a restart loop: " +
            "restart the computer and run the bundle again to go on";
        last = true;
    } else {
        J.reboots++;
        J.awaiting = true;
    }
    done(js, "reboot-required", reason);
    if (!last) reboot(res.outcome == "reboot-initiated");
    return true;
}

// reboot registers the run after the restart, and restarts when allowed.
function reboot(initiated) {
    var cmd = cmdC() + "\"\"" + P.bundle + "\\legacy\\run.cmd\" /resume /quiet" +
        (OPT.reboot ? " /reboot" : "") + "\"";
    REPORT.outcome = "reboot-required";
    try {
        setRunOnce(cmd);
    } catch (e) {
        REPORT.reason = "a restart is needed, and the runner could not arrange to continue after it (" + errText(e) +
            "): restart, then run the bundle again";
        return;
    }
    REPORT.reason = "a restart is needed; the runner continues by itself after the restart";
    if (initiated) {
        say("the installer is restarting the computer; the runner continues after the restart");
    } else if (OPT.reboot || (!OPT.quiet && confirm("Restart the computer now?"))) {
        RESTART = true;
    } else {
        say("restart the computer to continue; the runner continues by itself after the restart");
    }
}

function confirm(question) {
    try {
        WScript.StdOut.Write(question + " [y/N] ");
        return /^\s*y/i.test(WScript.StdIn.ReadLine());
    } catch (e) {
        return false;
    }
}

function setFacts(facts) {
    FACTS = {};
    for (var i = 0; i < facts.length; i++) FACTS[facts[i]] = true;
    FACTS_KNOWN = true;
}

// checkReboot handles a restart a step asked for; true ends the run.
function checkReboot() {
    var pending = pendingReboot();
    if (J.awaiting) {
        if (!OPT.resume && pending.length > 0) {
            REPORT.outcome = "reboot-required";
            REPORT.reason = "a step asked for a restart and Windows still has one pending (" + pending.join("; ") +
                "): restart the computer; the runner continues by itself after the restart";
            say(REPORT.reason);
            return true;
        }
        J.awaiting = false;
        for (var id in J.steps) {
            var s = J.steps[id];
            if (s.status == "reboot-required") {
                s.status = "succeeded";
                s.reason = trim(s.reason + " (the computer was restarted afterwards)");
            }
        }
        say("continuing after the restart");
        saveJournal();
        return false;
    }
    if (pending.length > 0) {
        note("Windows reports a pending restart before any step ran (" + pending.join("; ") +
            "); installers may fail until the computer is restarted");
    }
    return false;
}

// describeComputer says what this computer is, in the terms requires
// uses: "Windows 5.2 x64 (Service Pack 2); recorded: none".
function describeComputer() {
    return "Windows " + OS.major + "." + OS.minor + " " + OS.arch + (OS.sp ? " (" + OS.sp + ")" : "") +
        (J.factsRecorded ? "; recorded: " + describeFacts(J.facts) : "");
}

// gate checks, at the start of a fresh run, once the leading detect steps
// have recorded their facts, that the bundle is for this computer
// (requires) and still needed (goal). It returns true when nothing more
// runs: the report says refused or not-needed, and main forgets the
// journal so that the next run starts afresh.
function gate() {
    REG_CACHE = {};
    try {
        if (BUNDLE.requires !== null && !evalCond(BUNDLE.requires)) {
            if (BUNDLE.goal !== null) {
                try { GOAL.before = evalCond(BUNDLE.goal); } catch (e) { } // for the report only
            }
            REPORT.outcome = "refused";
            REPORT.reason = "this bundle is for computers where " + BUNDLE.requiresText + "; this computer is " +
                describeComputer() + ": nothing was changed";
            GATE_SKIP = "the bundle is not for this computer";
            say(REPORT.reason);
            return true;
        }
        if (BUNDLE.goal !== null) GOAL.before = evalCond(BUNDLE.goal);
    } catch (e) {
        REPORT.outcome = "failed";
        REPORT.reason = "checking which computers the bundle is for and its goal: " + errText(e);
        return true;
    }
    if (GOAL.before === true) {
        if (!OPT.force) {
            REPORT.outcome = "not-needed";
            REPORT.reason = "the goal already holds (" + BUNDLE.goalText + "): nothing was changed (legacy\\run.cmd /force runs the steps anyway)";
            GATE_SKIP = "not needed: the goal already holds";
            GOAL.after = true;
            say(REPORT.reason);
            return true;
        }
        note("the goal already held (" + BUNDLE.goalText + "); the steps run anyway (/force)");
    }
    J.gated = true;
    J.goalBefore = GOAL.before === null ? "" : GOAL.before ? "1" : "0";
    saveJournal();
    return false;
}

// finishIfGoalMet ends the run after a finish_if_goal_met step when the
// goal holds: every later step is skipped, in one journal write. The goal
// is checked once per step (a later run must not credit this step with
// what later steps did), and not while the step awaits a restart.
function finishIfGoalMet(i, st, js) {
    if (!st.finishIfGoalMet || BUNDLE.goal === null || js.goalChecked || js.state != "done" ||
        js.status == "reboot-required" || (js.status == "failed" && !js.tolerated)) return false;
    REG_CACHE = {};
    var met;
    try {
        met = evalCond(BUNDLE.goal);
    } catch (e) {
        REPORT.outcome = "failed";
        REPORT.reason = "checking the goal after step " + st.id + ": " + errText(e);
        return true;
    }
    js.goalChecked = true;
    if (!met) {
        say("    the goal does not hold yet (" + BUNDLE.goalText + "): the run goes on");
        saveJournal();
        return false;
    }
    for (var k = i + 1; k < STEPS.length; k++) {
        var later = jstep(STEPS[k].id);
        later.state = "done";
        later.status = "skipped";
        later.reason = "the goal was met after step " + st.id;
        later.exit = "";
        later.log = "";
    }
    say("the goal holds after step " + st.id + " (" + BUNDLE.goalText + "): the remaining steps are skipped");
    saveJournal();
    return true;
}

// finalOutcome decides the outcome of a run that ended without one: a
// failure in the journal, else the goal (when there is one) decides.
function finalOutcome() {
    if (REPORT.outcome != "") return;
    for (var i = 0; i < STEPS.length; i++) {
        var s = J.steps[STEPS[i].id];
        if (s && s.state == "done" && s.status == "failed" && !s.tolerated) {
            REPORT.outcome = "failed";
            REPORT.reason = "step " + STEPS[i].id + " failed: " + s.reason;
            return;
        }
    }
    REPORT.outcome = "success";
    if (BUNDLE.goal === null) return;
    REG_CACHE = {};
    try {
        GOAL.after = evalCond(BUNDLE.goal);
    } catch (e) {
        REPORT.outcome = "failed";
        REPORT.reason = "every step ran, but the goal could not be checked: " + errText(e);
        return;
    }
    if (!GOAL.after) {
        REPORT.outcome = "failed";
        REPORT.reason = "every step ran, but " + BUNDLE.goalText + " does not hold";
    }
}

function steps() {
    setFacts(J.facts);
    FACTS_KNOWN = J.factsRecorded;
    var gated = (BUNDLE.requires !== null || BUNDLE.goal !== null) && !J.gated;
    for (var i = 0; i < STEPS.length; i++) {
        var st = STEPS[i];
        // requires and goal are decided once the leading detect steps have
        // recorded their facts, before anything else runs.
        if (gated && st.kind != "detect") {
            gated = false;
            if (gate()) return;
        }
        var js = jstep(st.id);
        if (js.state == "done") {
            if (finishIfGoalMet(i, st, js)) return;
            continue;
        }
        if (js.state == "started") {
            js.interrupted++;
            note("step " + st.id + " was interrupted while it ran (the runner was stopped or the power went); running it again");
        }
        say("[" + (i + 1) + "/" + STEPS.length + "] " + st.id + ": " + st.title);
        if (runStep(i, st, js)) return;
        if (finishIfGoalMet(i, st, js)) return;
    }
    if (gated) gate(); // only detect steps: the gate still decides the outcome
}

// isElevated asks fsutil, which answers only an administrator (on Vista
// and later, only an elevated one). A write to HKLM\SOFTWARE would prove
// nothing: XP's Power Users may write there. Wine's fsutil knows no
// "dirty" command (it lists only "hardlink") and every Wine process is an
// administrator: there, and only there, the write decides, and only what
// it wrote is removed.
function isElevated() {
    var r = capture("fsutil.exe", "dirty query " + expand("%SystemDrive%"));
    if (r.rc == 0) return true;
    if (/\bdirty\b/i.test(r.out) || !/\bhardlink\b/i.test(r.out)) return false;
    var k = "\"HKLM\\SOFTWARE\\" + PRODUCT + "\"", had = reg("query " + k) == 0;
    if (reg("add " + k + " /v elevation-check /t REG_DWORD /d 1 /f") != 0) return false;
    reg("delete " + k + (had ? " /v elevation-check" : "") + " /f");
    return true;
}

// refuse writes a "refused" report (nothing ran) and returns the exit code.
function refuse(origin, reason) {
    REPORT.outcome = "refused";
    REPORT.reason = reason;
    if (J === null) J = newJournal();
    J.steps = {};
    say("REFUSED: " + reason);
    writeReport(origin);
    return EXIT_FAILED;
}

function summary() {
    say("");
    say("Summary for " + ID + " on " + computerName() + ":");
    for (var i = 0; i < STEPS.length; i++) {
        var s = J.steps[STEPS[i].id], id = STEPS[i].id;
        while (id.length < 16) id += " ";
        say("  " + id + " " + (s && s.state == "done" ? s.status + (s.reason ? ": " + s.reason : "") :
            GATE_SKIP != "" ? "skipped: " + GATE_SKIP : "not-run"));
    }
    var results = {
        "success": "Result: success. Every step that applies to this computer is done.",
        "reboot-required": "Result: a restart is required.",
        "failed": "Result: FAILED. Nothing after the failed step ran. Fix the cause above, then run the bundle again: finished steps are not repeated.",
        "refused": "Result: REFUSED. Nothing was run.",
        "not-needed": "Result: not needed. This computer is already in the state the bundle exists to reach; nothing was changed."
    };
    var goalUnmet = REPORT.outcome == "failed" && GOAL.after === false;
    say(goalUnmet ? "Result: FAILED. Every step ran, and the computer is still not in the state the bundle exists to reach." :
        results[REPORT.outcome]);
    if (REPORT.reason) say("  " + REPORT.reason);
    say("Report: " + P.root + "\\" + REPORT_NAME);
}

function parseArgs() {
    var a = WScript.Arguments;
    for (var i = 0; i < a.length; i++) {
        var s = String(a(i)).toLowerCase();
        // START.cmd passes its arguments to runner.exe or to this script:
        // runner.exe's "run", --yes and --reboot mean the same here.
        if (s == "/resume") OPT.resume = true;
        else if (s == "/reboot" || s == "--reboot") OPT.reboot = true;
        else if (s == "/quiet" || s == "--yes" || s == "-y") OPT.quiet = true;
        else if (s == "/force" || s == "--force") OPT.force = true;
        else if (s == "run" && i == 0) continue;
        else if (s == "/sha256" && i + 1 < a.length) OPT.sha256.push(String(a(++i)));
        else return "unknown option " + a(i) + " (run.cmd takes /reboot, /quiet, /force and /sha256 FILE)";
    }
    return "";
}

// hashFiles prints the SHA-256 of each file named with /sha256, the way
// the executor computes it, and how long it took: a technician can check
// a file by hand, and measure this computer's speed.
function hashFiles(here) {
    var why = startHelper(here);
    if (why != "") {
        WScript.Echo("fixstick: cannot check files here: " + why);
        return EXIT_FAILED;
    }
    if (!HAVE_SHA) WScript.Echo("fixstick: no SHA-256 in CryptoAPI here (XP before SP3): hashing in JScript, which is slow");
    for (var i = 0; i < OPT.sha256.length; i++) {
        var p = OPT.sha256[i];
        if (!fso.FileExists(p)) {
            WScript.Echo("fixstick: " + p + ": no such file");
            return EXIT_FAILED;
        }
        var r = hashFile(p);
        WScript.Echo(r.sha + "  " + r.size + " bytes  " + r.ms + " ms  " + p);
    }
    return EXIT_SUCCESS;
}

function main() {
    REPORT.started = now();
    var here = fso.GetParentFolderName(fso.GetParentFolderName(WScript.ScriptFullName));
    var bad = parseArgs();
    if (bad != "") {
        WScript.Echo("fixstick: " + bad);
        return 2;
    }
    if (OPT.sha256.length > 0) return hashFiles(here);
    ID = lockBundleID(here);
    say((ID || BUNDLE.id) + ": " + BUNDLE.title + " (legacy executor, Windows XP to 8.1)");
    if (ID == "") {
        ID = BUNDLE.id;
        return refuse(here, "bundle.lock.json is missing next to the legacy folder, or belongs to another bundle: " +
            "copy the whole bundle folder again");
    }
    var why = startHelper(here);
    if (why != "") {
        return refuse(here, /cannot check/.test(why) ? why + ", so nothing was run. " +
            "Check the bundle on another computer (runner.exe verify on Windows 10 or later, or builder verify), " +
            "then run it with runner.exe where possible" : "the bundle's helper does not match the bundle: " + why +
            "; nothing was run: copy the whole bundle folder again");
    }
    if (!isElevated()) {
        return refuse(here, "the runner needs administrator rights: log on as an administrator; on Vista and later, " +
            "right-click START.cmd and choose \"Run as administrator\"");
    }
    osInfo();
    var root = privateRoot() + "\\" + ID;
    P = { root: root, bundle: root + "\\b", journal: root + "\\" + JOURNAL_NAME, log: root + "\\" + LOG_NAME,
        logs: root + "\\logs", work: root + "\\w" };
    var open = takeOver();
    if (open != "") {
        return refuse(here, "the private folder is not private: " + open + ". Nothing was run. Delete " + privateRoot() +
            " as an administrator (other bundles' journals are in it), then run the bundle again");
    }
    LOGFILE = fso.OpenTextFile(P.log, 8, true, 0);
    say("Windows " + OS.major + "." + OS.minor + "." + OS.build + (OS.sp ? " " + OS.sp : "") + ", " + OS.arch);
    J = loadJournal();
    if (J === null) J = newJournal();
    if (J.bundle != ID) throw new Error("journal " + P.journal + " belongs to bundle " + J.bundle + ", not " + ID);
    if (!samePath(here, P.bundle)) {
        if (J.origin == "") J.origin = here;
        var problems = copyBundle(here);
        if (problems.length > 0) {
            return refuse(here, "the bundle does not match its lock; nothing was run:\n\t" + problems.join("\n\t"));
        }
    }
    saveJournal();
    if (J.goalBefore != "") GOAL.before = J.goalBefore == "1";
    if (!checkReboot()) steps();
    finalOutcome();
    if (REPORT.outcome != "reboot-required") setRunOnce("");
    summary();
    writeReport(J.origin);
    if (GATE_SKIP != "") {
        // Nothing changed: the next run starts afresh and records again.
        var origin = J.origin, created = J.created;
        J = newJournal();
        J.origin = origin;
        J.created = created;
        saveJournal();
    }
    if (RESTART) {
        say("restarting the computer in 30 seconds; the runner continues after the restart (shutdown -a cancels)");
        runHidden("\"" + expand("%SystemRoot%") + "\\System32\\shutdown.exe\" -r -t 30 -c \"" + PRODUCT + ": " +
            ID + "\"");
    }
    return REPORT.outcome == "success" || REPORT.outcome == "not-needed" ? EXIT_SUCCESS :
        REPORT.outcome == "reboot-required" ? EXIT_REBOOT : EXIT_FAILED;
}

// A script error must not vanish: say it, and leave a report.
var EXIT;
try {
    EXIT = main();
} catch (e) {
    say("fixstick: internal error: " + errText(e));
    try {
        REPORT.outcome = "failed";
        REPORT.reason = "the legacy executor stopped: " + errText(e);
        if (J === null) J = newJournal();
        writeReport(J.origin || fso.GetParentFolderName(fso.GetParentFolderName(WScript.ScriptFullName)));
    } catch (e2) { }
    EXIT = EXIT_FAILED;
}
if (LOGFILE) LOGFILE.Close();
WScript.Quit(EXIT);
