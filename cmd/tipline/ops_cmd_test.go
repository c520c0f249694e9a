package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConfigCheck: an admin reads back what the example config means
// before going live, and a broken file is refused with every problem named.
func TestConfigCheck(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 3, 21, 12, 0, 0, 0, time.UTC) // inside Ben Okafor's override
	require.NoError(t, configCommand([]string{"check", "-f", "../../deploy/tipline.example.yaml"}, env{}.get, &out, now))
	got := out.String()
	for _, want := range []string{
		"../../deploy/tipline.example.yaml is valid: 3 organisations, 5 teams, 6 routes",
		"1. org lincoln-high, roosevelt-middle; category self_harm; urgency any\n     -> counselling (continue)",
		"during school-hours",
		"otherwise -> district-safety",
		"time interval school-hours: monday:friday, 07:30-16:00 (America/Chicago)",
		"rotation: turns of 1 week(s) from 2026-01-05 08:00 (America/New_York)",
		"on call at 2026-03-21 12:00 UTC: primary Ben Okafor",
		"finally: Principal Hughes",
	} {
		require.Contains(t, got, want)
	}
	require.NotContains(t, got, "+1555", "config check prints phone numbers")

	// TIPLINE_CONFIG is the default file; the demo config without it.
	out.Reset()
	require.NoError(t, run([]string{"config", "check"}, nil, &out, io.Discard, env{}.get))
	require.Contains(t, out.String(), "the built-in demo config is valid")

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("default_team: x\nteams: [{id: d, name: D}]\n"), 0o600))
	err := run([]string{"config", "check"}, nil, io.Discard, io.Discard, env{"TIPLINE_CONFIG": bad}.get)
	require.ErrorContains(t, err, "oncall names nobody")
	require.Error(t, run([]string{"config", "lint"}, nil, io.Discard, io.Discard, env{}.get))
}
