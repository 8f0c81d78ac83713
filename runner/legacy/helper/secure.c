/* Taking over the private folder, the way runner.exe does, by SID and
 * never by name (names are translated, and may hold any character):
 *   - a folder that is a reparse point, or that someone other than SYSTEM
 *     or Administrators owns, is moved aside, and a new one is made;
 *   - otherwise every entry of the bundle's folder gets Administrators as
 *     owner and a protected DACL that grants SYSTEM and Administrators
 *     only;
 *   - then everything is read back by SID, and a reparse point anywhere
 *     is refused;
 *   - files of the bundle's copy that the lock does not list are deleted.
 * The security calls go through g_sec, so a test can prove this against a
 * fake that keeps owners and DACLs (Wine keeps neither). */
#include "helper.h"

static BYTE sid_sy[SECURITY_MAX_SID_SIZE], sid_ba[SECURITY_MAX_SID_SIZE], sid_wd[SECURITY_MAX_SID_SIZE];
static BYTE user_buf[512];
static PSID sid_user; /* this process's user: trusted only under Wine */
static PACL private_dacl;

static int init(void)
{
	DWORD n, size;
	HANDLE tok;
	n = sizeof sid_sy;
	if (!CreateWellKnownSid(WinLocalSystemSid, NULL, sid_sy, &n))
		return 0;
	n = sizeof sid_ba;
	if (!CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, sid_ba, &n))
		return 0;
	n = sizeof sid_wd;
	if (!CreateWellKnownSid(WinWorldSid, NULL, sid_wd, &n))
		return 0;
	if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) {
		if (GetTokenInformation(tok, TokenUser, user_buf, sizeof user_buf, &n))
			sid_user = ((TOKEN_USER *)user_buf)->User.Sid;
		CloseHandle(tok);
	}
	size = sizeof(ACL) + 2 * (sizeof(ACCESS_ALLOWED_ACE) + SECURITY_MAX_SID_SIZE);
	private_dacl = zalloc(size);
	return private_dacl && InitializeAcl(private_dacl, size, ACL_REVISION) &&
	       AddAccessAllowedAceEx(private_dacl, ACL_REVISION, OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE,
				     FILE_ALL_ACCESS, sid_sy) &&
	       AddAccessAllowedAceEx(private_dacl, ACL_REVISION, OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE,
				     FILE_ALL_ACCESS, sid_ba);
}

/* trusted_owner: SYSTEM or Administrators; under Wine, which shows every
 * file as the user's own, also this process's user. This is runner.exe's
 * underWine rule (runner/internal/winsys): on Windows a file the same
 * user made unelevated is owned by the user, and must not be trusted. */
static int trusted_owner(PSID s)
{
	return s && (EqualSid(s, sid_sy) || EqualSid(s, sid_ba) || (g_sec->wine() && sid_user && EqualSid(s, sid_user)));
}

/* private_readback returns "" when path's owner and DACL are private, or
 * what is wrong. Under Wine the DACL follows the Unix mode bits (the
 * user, SYSTEM, and Everyone reading): those are accepted there only. */
static const WCHAR *private_readback(const WCHAR *path)
{
	PSID owner;
	PACL dacl;
	BOOL prot;
	PSECURITY_DESCRIPTOR sd;
	const WCHAR *why = L"";
	DWORD i;
	if (g_sec->get(path, &owner, &dacl, &prot, &sd) != ERROR_SUCCESS)
		return L"its owner and permissions cannot be read";
	if (!trusted_owner(owner))
		why = L"it is owned by someone other than SYSTEM or Administrators";
	else if (!dacl)
		why = L"it has no permission list (everyone may enter)";
	else if (!prot && !g_sec->wine())
		why = L"it inherits permissions from its parent folder";
	for (i = 0; !*why && i < dacl->AceCount; i++) {
		ACE_HEADER *ace;
		PSID s;
		if (!GetAce(dacl, i, (void **)&ace))
			why = L"its permission list cannot be read";
		else if (ace->AceType != ACCESS_ALLOWED_ACE_TYPE)
			why = L"its permission list holds an entry other than SYSTEM and Administrators";
		else if (s = (PSID)&((ACCESS_ALLOWED_ACE *)ace)->SidStart, !(EqualSid(s, sid_sy) || EqualSid(s, sid_ba) ||
			 (g_sec->wine() && ((sid_user && EqualSid(s, sid_user)) ||
					    (EqualSid(s, sid_wd) && !(((ACCESS_ALLOWED_ACE *)ace)->Mask & (FILE_WRITE_DATA | FILE_APPEND_DATA | WRITE_DAC | WRITE_OWNER | DELETE)))))))
			why = L"its permission list lets in someone other than SYSTEM and Administrators";
	}
	LocalFree(sd);
	return why;
}

/* make_private creates path as a private folder, moving aside what is
 * there when it is a reparse point, not a folder, or not owned by SYSTEM
 * or Administrators. */
static int make_private(const WCHAR *path)
{
	static WCHAR aside[PATHCAP];
	SECURITY_DESCRIPTOR sd;
	SECURITY_ATTRIBUTES sa = {sizeof sa, &sd, FALSE};
	DWORD a = g_sec->attributes(path);
	if (a != INVALID_FILE_ATTRIBUTES) {
		PSID owner;
		PACL dacl;
		BOOL prot;
		PSECURITY_DESCRIPTOR osd = NULL;
		int trusted = !(a & FILE_ATTRIBUTE_REPARSE_POINT) && (a & FILE_ATTRIBUTE_DIRECTORY) &&
			      g_sec->get(path, &owner, &dacl, &prot, &osd) == ERROR_SUCCESS && trusted_owner(owner);
		if (osd)
			LocalFree(osd);
		if (trusted)
			return 1;
		aside[0] = 0;
		wnum(wcat(wcat(aside, path), L".untrusted-"), GetTickCount());
		if (!MoveFileExW(path, aside, 0)) {
			fail_reply(path, GetLastError());
			reply(L"refused", path, L"it is not private and cannot be moved aside", NULL);
			return 0;
		}
		reply(L"moved", path, aside, NULL);
	}
	if (!InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION) ||
	    !SetSecurityDescriptorOwner(&sd, sid_ba, FALSE) || !SetSecurityDescriptorDacl(&sd, TRUE, private_dacl, FALSE) ||
	    !SetSecurityDescriptorControl(&sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED) || !CreateDirectoryW(path, &sa)) {
		fail_reply(path, GetLastError());
		return 0;
	}
	return 1;
}

/* below returns the part of path below dir, or NULL when it is not there. */
static const WCHAR *below(const WCHAR *path, const WCHAR *dir)
{
	int n = lstrlenW(dir), i;
	for (i = 0; i < n; i++) {
		WCHAR x = path[i], y = dir[i];
		if (x >= L'a' && x <= L'z')
			x -= 32;
		if (y >= L'a' && y <= L'z')
			y -= 32;
		if (x != y)
			return NULL;
	}
	return path[n] == L'\\' ? path + n + 1 : NULL;
}

static int listed(const WCHAR *rel, WCHAR **keep, int nkeep)
{
	int i;
	for (i = 0; i < nkeep; i++)
		if (wsame(rel, keep[i]))
			return 1;
	return 0;
}

/* walk resets and reads back every entry below dir (a buffer of PATHCAP
 * characters, restored on return). Below clean (a prefix of dir, or
 * NULL), files that keep does not list are deleted first. It returns 0
 * when it refused. */
static int walk(WCHAR *dir, const WCHAR *clean, WCHAR **keep, int nkeep, int depth)
{
	WIN32_FIND_DATAW fd;
	HANDLE f;
	int len = lstrlenW(dir), ok = 1;
	if (depth > 64 || len > PATHCAP - MAX_PATH - 2) {
		reply(L"refused", dir, L"it is nested too deep", NULL);
		return 0;
	}
	wcat(dir, L"\\*");
	f = FindFirstFileW(dir, &fd);
	dir[len] = 0;
	if (f == INVALID_HANDLE_VALUE)
		return 1;
	do {
		const WCHAR *why;
		if (!lstrcmpW(fd.cFileName, L".") || !lstrcmpW(fd.cFileName, L".."))
			continue;
		wcat(wcat(dir, L"\\"), fd.cFileName);
		if ((fd.dwFileAttributes | g_sec->attributes(dir)) & FILE_ATTRIBUTE_REPARSE_POINT) {
			reply(L"refused", dir, L"it is a junction or link: delete it as an administrator", NULL);
			ok = 0;
		} else if (clean && !(fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) && below(dir, clean) &&
			   !listed(below(dir, clean), keep, nkeep)) {
			SetFileAttributesW(dir, FILE_ATTRIBUTE_NORMAL);
			if (DeleteFileW(dir)) {
				reply(L"removed", dir, NULL);
			} else {
				fail_reply(dir, GetLastError());
				ok = 0;
			}
		} else {
			DWORD err = g_sec->set(dir, sid_ba, private_dacl);
			if (err != ERROR_SUCCESS)
				fail_reply(dir, err);
			if (*(why = private_readback(dir))) {
				reply(L"refused", dir, why, NULL);
				ok = 0;
			} else if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) && !walk(dir, clean, keep, nkeep, depth + 1)) {
				ok = 0;
			}
		}
		dir[len] = 0;
	} while (ok && FindNextFileW(f, &fd));
	FindClose(f);
	return ok;
}

/* take_over makes root and root's subfolder bundle private (bundle is a
 * full path); below keep_dir, only the files keep lists (paths relative
 * to keep_dir, with backslashes) stay. */
int take_over(const WCHAR *root, const WCHAR *bundle, const WCHAR *keep_dir, WCHAR **keep, int nkeep)
{
	static WCHAR dir[PATHCAP];
	const WCHAR *why;
	const WCHAR *top[2];
	int i;
	if (!init()) {
		fail_reply(L"the well-known SIDs", GetLastError());
		return 0;
	}
	top[0] = root;
	top[1] = bundle;
	for (i = 0; i < 2; i++) {
		DWORD err;
		if (!make_private(top[i]))
			return 0;
		if ((err = g_sec->set(top[i], sid_ba, private_dacl)) != ERROR_SUCCESS)
			fail_reply(top[i], err);
		if (*(why = private_readback(top[i]))) {
			reply(L"refused", top[i], why, NULL);
			return 0;
		}
	}
	dir[0] = 0;
	wcat(dir, bundle);
	return walk(dir, keep_dir, keep, nkeep, 0);
}

/* takeover: records "root PATH", "bundle PATH", "keep-dir PATH" and
 * "keep RELATIVE" (each file of the bundle's copy the lock lists);
 * answers "moved", "removed", "refused" and "error" records, then "ok". */
int cmd_takeover(void)
{
	Record r;
	WCHAR *root = NULL, *bundle = NULL, *keep_dir = NULL, **keep;
	int nkeep = 0;
	keep = zalloc(sizeof(WCHAR *) * 65536);
	while (keep && next_record(&r) && r.n == 2) {
		if (wsame(r.f[0], L"root"))
			root = r.f[1];
		else if (wsame(r.f[0], L"bundle"))
			bundle = r.f[1];
		else if (wsame(r.f[0], L"keep-dir"))
			keep_dir = r.f[1];
		else if (wsame(r.f[0], L"keep") && nkeep < 65536)
			keep[nkeep++] = r.f[1];
		else
			return EXIT_USAGE;
	}
	if (!root || !bundle)
		return EXIT_USAGE;
	if (!take_over(root, bundle, keep_dir, keep, nkeep))
		return EXIT_FAILED;
	reply(L"ok", NULL);
	return EXIT_DONE;
}

/* appdata: answers "appdata PATH", the all-users application data folder
 * (XP: "All Users\Application Data", translated; Vista and later:
 * ProgramData). */
int cmd_appdata(void)
{
	static WCHAR p[MAX_PATH];
	HRESULT hr = SHGetFolderPathW(NULL, CSIDL_COMMON_APPDATA, NULL, SHGFP_TYPE_CURRENT, p);
	if (FAILED(hr)) {
		fail_reply(L"SHGetFolderPath(CSIDL_COMMON_APPDATA)", (DWORD)hr);
		return EXIT_FAILED;
	}
	reply(L"appdata", p, NULL);
	return EXIT_DONE;
}
