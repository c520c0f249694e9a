package triage_test

import (
	"slices"
	"testing"

	"github.com/tipline/tipline/triage"
)

// A handle retold loses its decoration, gains a space, or is named by the
// word before "account": each still reads as the same account.
func TestSpecificsHandleRetold(t *testing.T) {
	for _, c := range []struct{ text, handle string }{
		{"a post from @xx.reaper.xx saying dont come friday", "reaper"},
		{"a post from @xx.reaper.xx saying dont come friday", "xxreaperxx"},
		{"an account called xx.reaper.xx posted a rifle", "reaper"},
		{"i think i know who runs the reaper account", "reaper"},
		{"FWD: dont come to school friday. - reaper acct.", "reaper"},
		{"lexi bby2 is a scam acct dont add it", "lexibby2"},
		{"una cuenta que se llama voidreaper_07", "voidreaper07"},
	} {
		specs := triage.Specifics(c.text)
		if !slices.Contains(specs, triage.Specific{Kind: triage.KindHandle, Value: c.handle}) {
			t.Errorf("%q: want handle %q, got %v", c.text, c.handle, specs)
		}
	}
	// Words that describe an account are not its name, and a verb before a
	// handle is not part of it.
	for _, c := range []struct{ text, not string }{
		{"lexi bby2 is a scam acct", "scam"},
		{"someone made a fake account", "fake"},
		{"una cuenta que se llama voidreaper_07", "llamavoidreaper07"},
		{"some acct lexi.bby2 got my pics", "acctlexibby2"},
	} {
		if specs := triage.Specifics(c.text); slices.Contains(specs, triage.Specific{Kind: triage.KindHandle, Value: c.not}) {
			t.Errorf("%q: handle %q should not be read, got %v", c.text, c.not, specs)
		}
	}
}
