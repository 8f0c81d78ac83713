package legacy

import (
	"fixstick/payload"
)

func ptr[T any](v T) *T { return &v }

func codes(over payload.ExitCodes) payload.ExitCodes { return over.Merge() }

// seedLock mirrors what the builder compiles from
// manifests/netfx11sp1-kb979906.yaml when the optional Fix it and KB2833941
// packages are not supplied (the view the builder hands Render: bundle id
// = manifest id, files without the legacy executor). Sizes and hashes
// that the manifest does not give are stand-ins.
func seedLock() *payload.Lock {
	fail := func(text string) payload.Result { return payload.Result{Outcome: payload.OutcomeFailure, Text: text} }
	exe := func(id, title, program, args string, timeout int64, when *payload.Condition) payload.LockStep {
		return payload.LockStep{ID: id, Title: title, Kind: payload.KindExe, Program: program, Args: args,
			ExitCodes: codes(nil), Reboot: payload.RebootIfNeeded, Timeout: timeout, When: when}
	}
	recorded := func(fact string) *payload.Condition { return &payload.Condition{Recorded: fact} }
	installed := func(kb string) *payload.Condition {
		return &payload.Condition{Registry: &payload.RegistryCond{
			Key: `HKLM\SOFTWARE\Microsoft\Updates\.NETFramework\1.1\M` + kb, Value: "Installed", Equals: ptr("1"), View: 32}}
	}
	edition := func(name string) payload.Condition {
		return payload.Condition{Registry: &payload.RegistryCond{Key: `HKLM\SYSTEM\WPA\` + name, Value: "Installed", Equals: ptr("1"), View: 64}}
	}
	tabletOrMediaCenter := &payload.Condition{Any: []payload.Condition{edition("MediaCenter"), edition("TabletPC")}}

	record := payload.LockStep{ID: "record", Title: "Record which .NET Framework versions are installed (KB318785)",
		Kind: payload.KindDetect, Detect: payload.DetectNetFx, Reboot: payload.RebootNever, Timeout: 3600}
	fixit := payload.LockStep{ID: "fixit", Title: "Repair Windows Installer update registration (KB971187, Fix it 50123)",
		Kind: payload.KindMSI, ExitCodes: codes(nil), Reboot: payload.RebootIfNeeded, Timeout: 900,
		Skip: "optional artifact fixit50123 not supplied (no pin and no file given with --add)"}
	try := exe("try-kb979906", `Try the security update KB979906 again (KB971187, "see if the update will install")`,
		"payloads/kb979906/NDP1.1sp1-KB979906-X86.exe", "/q /norestart", 3600, nil)
	try.OnFailure, try.FinishIfGoalMet = payload.OnFailureContinue, true
	cleanupCodes := codes(payload.ExitCodes{
		1:    fail("not run as an administrator"),
		2:    fail("cleanup.ini is missing"),
		3:    fail("the product is part of the operating system and cannot be removed"),
		4:    fail("unknown product name given with /p"),
		100:  fail(`the cleanup failed; read %TEMP%\cleanup_errors.log`),
		1602: fail("the cleanup was cancelled"),
	})
	cleanup := exe("cleanup", "Remove all .NET Framework versions with the cleanup tool (KB923100, method 2)",
		"payloads/cleanup-tool/cleanup_tool.exe", `/q:a /c:"cleanup.exe /p .NET Framework - All Versions /u"`, 1800, nil)
	cleanup.ExitCodes, cleanup.Reboot, cleanup.Unless = cleanupCodes, payload.RebootAfter, tabletOrMediaCenter
	cleanupTMC := exe("cleanup-tablet-media-center", "Remove all .NET Framework versions with the cleanup tool, Tablet PC and Media Center editions (KB923100, method 2)",
		"payloads/cleanup-tool/cleanup_tool.exe", `/q:a /c:"cleanup.exe /p .NET Framework - All Versions (Tablet PC and Media Center) /u"`, 1800, tabletOrMediaCenter)
	cleanupTMC.ExitCodes, cleanupTMC.Reboot = cleanupCodes, payload.RebootAfter
	netfx35 := exe("netfx35sp1", "Reinstall .NET Framework 3.5 SP1 (with 2.0 SP2 and 3.0 SP2)",
		"payloads/netfx35sp1/dotnetfx35.exe", "/q /norestart /lang:ENU", 5400,
		&payload.Condition{Any: []payload.Condition{
			{Recorded: "netfx20"}, {Recorded: "netfx30"}, {Recorded: "netfx35"}, {Recorded: "netfx35sp1"},
		}})
	netfx11 := exe("netfx11", "Reinstall .NET Framework 1.1", "payloads/netfx11/dotnetfx.exe",
		`/q:a /c:"install /l /q"`, 3600, recorded("netfx11"))
	netfx11sp1 := exe("netfx11sp1", "Reinstall .NET Framework 1.1 SP1", "payloads/netfx11sp1/NDP1.1sp1-KB867460-X86.exe",
		"/q", 3600, recorded("netfx11"))
	netfx40 := exe("netfx40", "Reinstall .NET Framework 4", "payloads/netfx40/dotNetFx40_Full_x86_x64.exe",
		"/q /norestart", 3600, recorded("netfx40"))
	kb979906 := exe("kb979906", "Install the .NET Framework 1.1 SP1 security update KB979906 (MS10-041)",
		"payloads/kb979906/NDP1.1sp1-KB979906-X86.exe", "/q /norestart", 3600, nil)
	kb979906.Unless, kb979906.OnFailure = installed("979906"), payload.OnFailureContinue
	kb2833941 := exe("kb2833941", "Install the .NET Framework 1.1 SP1 security update KB2833941 (MS13-052)",
		"", "/q /norestart", 3600, nil)
	kb2833941.Unless = installed("2833941")
	kb2833941.Skip = "optional artifact kb2833941 not supplied (no pin and no file given with --add)"

	return &payload.Lock{
		Version:  payload.LockVersion,
		Bundle:   "netfx11sp1-kb979906",
		Title:    "Repair the .NET Framework 1.1 SP1 security update KB979906 (error 0x643)",
		Manifest: payload.LockManifest{ID: "netfx11sp1-kb979906", SHA256: "5d0ba0f5ad2a1d7a0b0d5f0e6c4b59c5a8cfc4fb1d2b2f0c8b3c1b0e5d2a9f10"},
		Builder:  "devel",
		Created:  "2026-11-25T00:00:00Z",
		Files: []payload.LockFile{
			{Path: "README.txt", SHA256: "1111111111111111111111111111111111111111111111111111111111111111", Size: 4000},
			{Path: "legacy/fixhelp-x86.exe", SHA256: "6666666666666666666666666666666666666666666666666666666666666666", Size: 20480},
			{Path: "legacy/fixhelp.exe", SHA256: "7777777777777777777777777777777777777777777777777777777777777777", Size: 21504},
			{Path: "START.cmd", SHA256: "2222222222222222222222222222222222222222222222222222222222222222", Size: 1500},
			{Path: "payloads/cleanup-tool/cleanup_tool.exe", SHA256: "8ce9e674e2f302dd6bb6cbbdb9f1f79fc0a0af37d0f85d98809b579c90a94ceb", Size: 298496},
			{Path: "payloads/kb979906/NDP1.1sp1-KB979906-X86.exe", SHA256: "3333333333333333333333333333333333333333333333333333333333333333", Size: 3052856},
			{Path: "payloads/netfx11/dotnetfx.exe", SHA256: "ba0e58ec93f2ffd54fc7c627eeca9502e11ab3c6fc85dcbeff113bd61d995bce", Size: 24265736},
			{Path: "payloads/netfx11sp1/NDP1.1sp1-KB867460-X86.exe", SHA256: "2c0a35409ff0873cfa28b70b8224e9aca2362241c1f0ed6f622fef8d4722fd9a", Size: 10584064},
			{Path: "payloads/netfx35sp1/dotnetfx35.exe", SHA256: "0582515bde321e072f8673e829e175ed2e7a53e803127c50253af76528e66bc1", Size: 242743296},
			{Path: "payloads/netfx40/dotNetFx40_Full_x86_x64.exe", SHA256: "65e064258f2e418816b304f646ff9e87af101e4c9552ab064bb74d281c38659f", Size: 50449456},
			{Path: "runner-x86.exe", SHA256: "4444444444444444444444444444444444444444444444444444444444444444", Size: 2000000},
			{Path: "runner.exe", SHA256: "5555555555555555555555555555555555555555555555555555555555555555", Size: 2000000},
		},
		Requires: &payload.Condition{All: []payload.Condition{
			{OS: &payload.OSCond{Min: "5.1", Max: "5.1", Arch: "x86"}},
			{Recorded: "netfx11"},
		}},
		Goal:  &payload.Condition{Any: []payload.Condition{*installed("979906"), *installed("2833941")}},
		Steps: []payload.LockStep{record, fixit, try, cleanup, cleanupTMC, netfx35, netfx11, netfx11sp1, netfx40, kb979906, kb2833941},
	}
}
