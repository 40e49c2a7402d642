package audit

import (
	"strconv"
	"strings"
)

// triggerRefPrefix marks, in the Reason of an entry written by the
// obligation handler (notified, logged, deleted, anonymised,
// obligation_failed), the Seq of the entry whose event triggered it.
const triggerRefPrefix = "trigger seq "

// TriggerRef returns the text to put in the Reason of an obligation's entry
// to name the entry that triggered it: "trigger seq N". It returns "" for
// seq < 1 (unknown).
func TriggerRef(seq int64) string {
	if seq < 1 {
		return ""
	}
	return triggerRefPrefix + strconv.FormatInt(seq, 10)
}

// ParseTriggerRef finds a TriggerRef in reason and returns its Seq.
func ParseTriggerRef(reason string) (int64, bool) {
	i := strings.LastIndex(reason, triggerRefPrefix)
	if i < 0 {
		return 0, false
	}
	rest := reason[i+len(triggerRefPrefix):]
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(rest[:end], 10, 64)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}
