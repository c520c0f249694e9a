package account

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP as RFC 6238 says and authenticator apps expect: HMAC-SHA1, 30-second
// steps, six digits, a 160-bit secret written in base32.
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	totpSecret = 20 // bytes
	// totpSkew is how many steps either side of now are accepted, for a
	// phone whose clock is a little off or a code typed as it turned over.
	totpSkew = 1
)

// totpEncoding is base32 without padding, as otpauth URIs carry it.
var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret returns a fresh secret in base32.
func newTOTPSecret() string {
	b := make([]byte, totpSecret)
	_, _ = rand.Read(b)
	return totpEncoding.EncodeToString(b)
}

// TOTPCode is the code of secret (base32) at time t, as an authenticator
// app shows it. Tests use it to sign in as a person would.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := totpEncoding.DecodeString(strings.ToUpper(strings.ReplaceAll(secret, " ", "")))
	if err != nil {
		return "", fmt.Errorf("account: totp secret: %w", err)
	}
	return hotp(key, uint64(t.Unix())/uint64(totpStep/time.Second)), nil
}

// hotp is RFC 4226's code for counter.
func hotp(key []byte, counter uint64) string {
	m := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1_000_000)
}

// totpMatch finds the step within the skew of now at which code is the
// secret's code, and reports it if it is later than last (a code works
// once). code may carry spaces, as people copy it.
func totpMatch(secret, code string, now time.Time, last int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits {
		return 0, false
	}
	key, err := totpEncoding.DecodeString(secret)
	if err != nil {
		return 0, false
	}
	step := now.Unix() / int64(totpStep/time.Second)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		s := step + d
		if s > last && hmac.Equal([]byte(hotp(key, uint64(s))), []byte(code)) {
			return s, true
		}
	}
	return 0, false
}

// TOTPURI is the otpauth URI an authenticator app reads from the QR code.
func TOTPURI(issuer, login, secret string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(login)
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(totpDigits))
	q.Set("period", fmt.Sprint(int(totpStep/time.Second)))
	return "otpauth://totp/" + label + "?" + q.Encode()
}
