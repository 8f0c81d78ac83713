package engine

import "fixstick/internal/atomicfile"

// writeFileAtomic replaces a file the runner owns (journal, report, log
// copy, the private lock) so that a crash leaves the old or the new one.
// Mode 0600: in the private folder the folder's ACL decides who reads.
func writeFileAtomic(name string, data []byte) error {
	return atomicfile.WriteFile(name, data, 0o600)
}
