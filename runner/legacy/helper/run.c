/* Running one program the way runner.exe does: its payload checked again
 * through a handle that lets others only read, held until the process has
 * started (for msiexec and wusa, until they exit); its command line
 * passed verbatim to CreateProcess; a fresh, empty working folder; a
 * kill-on-close job object, so that the helper waits for the processes
 * the program starts and, at the timeout, ends them all; and a heartbeat
 * in the console title and the log while it runs. */
#include "helper.h"
#include <tlhelp32.h>

static struct {
	WCHAR *program, *sha256, *app, *cmdline, *dir, *log, *label;
	unsigned long long size;
	DWORD timeout, heartbeat;
	int hold_to_exit;
} req;

/* log_line appends "YYYY-MM-DD HH:MM:SS msg" to the log, in the ANSI
 * code page as engine.js writes it. */
static void log_line(const WCHAR *msg)
{
	static WCHAR line[1024];
	static char ansi[2048];
	SYSTEMTIME t;
	HANDLE h;
	DWORD n;
	int len;
	WORD v[6];
	int i;
	if (!req.log)
		return;
	GetLocalTime(&t);
	v[0] = t.wYear, v[1] = t.wMonth, v[2] = t.wDay, v[3] = t.wHour, v[4] = t.wMinute, v[5] = t.wSecond;
	line[0] = 0;
	for (i = 0; i < 6; i++) {
		if (v[i] < 10)
			wcat(line, L"0");
		wnum(line, v[i]);
		wcat(line, i < 2 ? L"-" : i == 2 ? L" " : i < 5 ? L":" : L" ");
	}
	lstrcpynW(line + lstrlenW(line), msg, 1000 - lstrlenW(line));
	wcat(line, L"\r\n");
	len = WideCharToMultiByte(CP_ACP, 0, line, -1, ansi, sizeof ansi, "?", NULL);
	h = CreateFileW(req.log, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS, 0, NULL);
	if (h != INVALID_HANDLE_VALUE && len > 1) {
		WriteFile(h, ansi, len - 1, &n, NULL);
		CloseHandle(h);
	}
}

/* duration appends sec as Go writes a time.Duration (1h0m5s), as the
 * engine's reasons do. */
static WCHAR *duration(WCHAR *d, DWORD sec)
{
	if (sec >= 3600)
		wcat(wnum(d, sec / 3600), L"h");
	if (sec >= 60)
		wcat(wnum(d, sec / 60 % 60), L"m");
	return wcat(wnum(d, sec % 60), L"s");
}

/* heartbeat says the program is alive, against its timeout. */
static void heartbeat(DWORD elapsed)
{
	static WCHAR s[512];
	s[0] = 0;
	wcat(wcat(s, L"fixstick: "), req.label ? req.label : L"step");
	duration(wcat(duration(wcat(s, L" running for "), elapsed), L" of "), req.timeout);
	SetConsoleTitleW(s);
	log_line(s + 10);
	reply(L"alive", s + 10, NULL);
}

/* remove_tree deletes path and what it holds, never following a link: a
 * junction is removed as the link it is. */
static void remove_tree(WCHAR *path)
{
	WIN32_FIND_DATAW fd;
	HANDLE f;
	int len = lstrlenW(path);
	DWORD a = GetFileAttributesW(path);
	if (a == INVALID_FILE_ATTRIBUTES)
		return;
	if ((a & FILE_ATTRIBUTE_DIRECTORY) && !(a & FILE_ATTRIBUTE_REPARSE_POINT) && len < PATHCAP - MAX_PATH - 2) {
		wcat(path, L"\\*");
		f = FindFirstFileW(path, &fd);
		path[len] = 0;
		if (f != INVALID_HANDLE_VALUE) {
			do {
				if (lstrcmpW(fd.cFileName, L".") && lstrcmpW(fd.cFileName, L"..")) {
					remove_tree(wcat(wcat(path, L"\\"), fd.cFileName));
					path[len] = 0;
				}
			} while (FindNextFileW(f, &fd));
			FindClose(f);
		}
	}
	SetFileAttributesW(path, FILE_ATTRIBUTE_NORMAL);
	if (a & FILE_ATTRIBUTE_DIRECTORY)
		RemoveDirectoryW(path);
	else
		DeleteFileW(path);
}

/* others counts the job's processes other than explorer.exe: installers
 * of shell extensions restart the shell, and Wine starts its desktop, and
 * those live on after the step (as in runner.exe). */
static int others(HANDLE job)
{
	static BYTE buf[sizeof(JOBOBJECT_BASIC_PROCESS_ID_LIST) + 1024 * sizeof(ULONG_PTR)];
	JOBOBJECT_BASIC_PROCESS_ID_LIST *l = (void *)buf;
	JOBOBJECT_BASIC_ACCOUNTING_INFORMATION acc;
	PROCESSENTRY32W pe;
	HANDLE snap;
	int n = 0;
	DWORD i;
	if (!QueryInformationJobObject(job, JobObjectBasicProcessIdList, l, sizeof buf, NULL)) {
		if (!QueryInformationJobObject(job, JobObjectBasicAccountingInformation, &acc, sizeof acc, NULL))
			return 0;
		return (int)acc.ActiveProcesses;
	}
	if (l->NumberOfProcessIdsInList == 0)
		return 0;
	snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
	pe.dwSize = sizeof pe;
	for (i = 0; i < l->NumberOfProcessIdsInList; i++) {
		int explorer = 0;
		if (snap != INVALID_HANDLE_VALUE && Process32FirstW(snap, &pe)) {
			do {
				if (pe.th32ProcessID == (DWORD)l->ProcessIdList[i])
					explorer = wsame(pe.szExeFile, L"explorer.exe");
			} while (!explorer && Process32NextW(snap, &pe));
		}
		n += !explorer;
	}
	if (snap != INVALID_HANDLE_VALUE)
		CloseHandle(snap);
	return n;
}

static int parse(void)
{
	Record r;
	int ok = 1;
	req.heartbeat = 60;
	while (next_record(&r)) {
		if (r.n == 4 && wsame(r.f[0], L"program")) {
			req.program = r.f[1];
			req.sha256 = r.f[2];
			req.size = wparse(r.f[3], &ok);
		} else if (r.n == 2 && wsame(r.f[0], L"app"))
			req.app = r.f[1];
		else if (r.n == 2 && wsame(r.f[0], L"cmdline"))
			req.cmdline = r.f[1];
		else if (r.n == 2 && wsame(r.f[0], L"dir"))
			req.dir = r.f[1];
		else if (r.n == 2 && wsame(r.f[0], L"log"))
			req.log = r.f[1];
		else if (r.n == 2 && wsame(r.f[0], L"label"))
			req.label = r.f[1];
		else if (r.n == 2 && wsame(r.f[0], L"timeout"))
			req.timeout = (DWORD)wparse(r.f[1], &ok);
		else if (r.n == 2 && wsame(r.f[0], L"heartbeat"))
			req.heartbeat = (DWORD)wparse(r.f[1], &ok);
		else if (r.n == 2 && wsame(r.f[0], L"hold"))
			req.hold_to_exit = wsame(r.f[1], L"exit");
		else
			return 0;
		if (!ok)
			return 0;
	}
	/* SHA-256 "-": CryptoAPI has none here, engine.js checked the copy */
	return req.program && req.app && req.cmdline && req.dir && req.timeout > 0 && req.timeout < 0x3FFFFF &&
	       req.heartbeat > 0 && (lstrlenW(req.sha256) == 64 || !lstrcmpW(req.sha256, L"-"));
}

/* start creates the process suspended, puts it in the job and lets it go. */
static int start(HANDLE job, PROCESS_INFORMATION *pi)
{
	static WCHAR cmd[PATHCAP];
	STARTUPINFOW si;
	DWORD flags[2] = {CREATE_SUSPENDED, CREATE_SUSPENDED | CREATE_BREAKAWAY_FROM_JOB};
	int i;
	memset(&si, 0, sizeof si);
	si.cb = sizeof si;
	for (i = 0; i < 2; i++) {
		cmd[0] = 0;
		wcat(cmd, req.cmdline); /* CreateProcessW may write into it */
		if (!CreateProcessW(req.app, cmd, NULL, NULL, FALSE, flags[i], NULL, req.dir, &si, pi)) {
			fail_reply(L"the program did not start", GetLastError());
			return 0;
		}
		/* a helper that is itself in a job (no nested jobs before
		 * Windows 8) starts the program outside it */
		if (AssignProcessToJobObject(job, pi->hProcess)) {
			ResumeThread(pi->hThread);
			return 1;
		}
		TerminateProcess(pi->hProcess, 1);
		CloseHandle(pi->hThread);
		CloseHandle(pi->hProcess);
	}
	fail_reply(L"the program could not be put in a job object", GetLastError());
	return 0;
}

/* run: records "program PATH SHA256 SIZE", "app PATH", "cmdline LINE",
 * "dir PATH", "timeout SECONDS", "hold start|exit", and optionally "log
 * PATH", "label TEXT", "heartbeat SECONDS"; answers "alive" records,
 * then "exit CODE" or "timeout SECONDS". */
int cmd_run(void)
{
	static WCHAR dir[PATHCAP], hex[SHA_HEX], code[24];
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION lim;
	PROCESS_INFORMATION pi;
	HANDLE job, payload;
	unsigned long long size;
	DWORD err, exit = 0, t0, elapsed = 0, next_beat;
	int exited = 0;
	if (!parse())
		return EXIT_USAGE;
	if (lstrcmpW(req.sha256, L"-") && !sha_available()) {
		reply(L"no-sha256", NULL);
		return EXIT_NO_SHA256;
	}
	/* others may read the payload, never write, rename or delete it */
	payload = CreateFileW(req.program, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
	if (payload == INVALID_HANDLE_VALUE || (lstrcmpW(req.sha256, L"-") && !hash_handle(payload, hex, &size, &err))) {
		fail_reply(req.program, payload == INVALID_HANDLE_VALUE ? GetLastError() : err);
		return EXIT_FAILED;
	}
	if (lstrcmpW(req.sha256, L"-") && (size != req.size || !wsame(hex, req.sha256))) {
		reply(L"bad", req.program, L"the private copy changed before it ran", hex, NULL);
		return EXIT_FAILED;
	}
	dir[0] = 0;
	remove_tree(wcat(dir, req.dir));
	if (!CreateDirectoryW(req.dir, NULL)) {
		fail_reply(req.dir, GetLastError());
		return EXIT_FAILED;
	}
	memset(&lim, 0, sizeof lim);
	lim.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
	job = CreateJobObjectW(NULL, NULL);
	if (!job || !SetInformationJobObject(job, JobObjectExtendedLimitInformation, &lim, sizeof lim)) {
		fail_reply(L"job object", GetLastError());
		return EXIT_FAILED;
	}
	if (!start(job, &pi))
		return EXIT_FAILED;
	CloseHandle(pi.hThread);
	if (!req.hold_to_exit)
		CloseHandle(payload);
	t0 = GetTickCount();
	next_beat = 0;
	for (;;) {
		DWORD left, wait;
		elapsed = (GetTickCount() - t0) / 1000;
		if (elapsed >= next_beat) {
			heartbeat(elapsed);
			next_beat = elapsed + req.heartbeat;
		}
		if (exited && others(job) == 0)
			break;
		if (elapsed >= req.timeout) {
			TerminateJobObject(job, 1);
			wnum(code, req.timeout);
			reply(L"timeout", code, NULL);
			log_line(L"the timeout passed: the program and every process it started were stopped");
			CloseHandle(job);
			return EXIT_DONE;
		}
		left = (req.timeout - elapsed) * 1000;
		wait = next_beat * 1000 - (GetTickCount() - t0);
		if (wait > left)
			wait = left;
		if (exited && wait > 250)
			wait = 250; /* polling the job for the children */
		if (!exited && WaitForSingleObject(pi.hProcess, wait) == WAIT_OBJECT_0) {
			exited = 1;
			GetExitCodeProcess(pi.hProcess, &exit);
			if (req.hold_to_exit)
				CloseHandle(payload);
		} else if (exited) {
			Sleep(wait);
		}
	}
	/* what is left (explorer.exe) lives on */
	lim.BasicLimitInformation.LimitFlags = 0;
	SetInformationJobObject(job, JobObjectExtendedLimitInformation, &lim, sizeof lim);
	CloseHandle(job);
	CloseHandle(pi.hProcess);
	code[0] = 0;
	reply(L"exit", wnum(code, exit), NULL);
	return EXIT_DONE;
}
