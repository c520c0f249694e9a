package main

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeployGuide runs deploy/smoke.sh: the README's deploy guide step by
// step on this machine, with the processes started as docker-compose.yml
// and the systemd units start them (the same environment file, deploy's
// redis.conf, TIPLINE_ROLE per process), then a backup, a restore into
// fresh Redis servers read back with the same keys, and a rolling restart.
// `docker compose config` is checked when docker compose is installed.
func TestDeployGuide(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis servers and five tipline processes")
	}
	needBinaries(t, "redis-server", "redis-cli")
	for _, tool := range []string{"bash", "curl", "python3", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("deploy/smoke.sh needs %s", tool)
		}
	}
	bin := buildTipline(t)
	out, err := exec.Command("bash", "../../deploy/smoke.sh", bin).CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err, "deploy/smoke.sh failed")
	require.Contains(t, string(out), "smoke: PASS")
}
