package intake

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of every encryption and hashing key.
const KeySize = 32

// Key is one AES-256 key with the ID stored beside every value it sealed, so
// that keys can rotate without losing what older keys sealed.
type Key struct {
	ID     string
	Secret []byte
}

// Keyring seals text with AES-256-GCM and hashes lookup values with a keyed
// HMAC. The first encryption key seals; all of them open.
type Keyring struct {
	seal    cipher.AEAD
	sealID  string
	open    map[string]cipher.AEAD
	hashKey []byte
}

// NewKeyring builds a keyring from encryption keys (the first one is used
// for new values) and a hash key for tokens and phone numbers. The hash key
// never rotates: a token's hash must be found again for as long as its tip
// lives.
func NewKeyring(keys []Key, hashKey []byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("intake: keyring: no encryption key")
	}
	if len(hashKey) < KeySize {
		return nil, fmt.Errorf("intake: keyring: hash key is %d bytes, want at least %d", len(hashKey), KeySize)
	}
	kr := &Keyring{open: make(map[string]cipher.AEAD, len(keys)), hashKey: hashKey}
	for i, k := range keys {
		if k.ID == "" || strings.ContainsAny(k.ID, ":,") {
			return nil, fmt.Errorf("intake: keyring: key %d: ID %q must be non-empty, without ':' or ','", i+1, k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("intake: keyring: key %q is %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		if _, dup := kr.open[k.ID]; dup {
			return nil, fmt.Errorf("intake: keyring: key ID %q appears twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("intake: keyring: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("intake: keyring: %w", err)
		}
		kr.open[k.ID] = aead
		if i == 0 {
			kr.seal, kr.sealID = aead, k.ID
		}
	}
	return kr, nil
}

// Seal encrypts plaintext as "keyID:base64(nonce|ciphertext)". The tip's ID
// is bound in as additional data so a value cannot be moved to another tip.
func (k *Keyring) Seal(plaintext, boundTo string) string {
	nonce := make([]byte, k.seal.NonceSize(), k.seal.NonceSize()+len(plaintext)+k.seal.Overhead())
	_, _ = rand.Read(nonce)
	out := k.seal.Seal(nonce, nonce, []byte(plaintext), []byte(boundTo))
	return k.sealID + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value made by Seal with any key of the ring.
func (k *Keyring) Open(sealed, boundTo string) (string, error) {
	id, b64, ok := strings.Cut(sealed, ":")
	if !ok {
		return "", errors.New("intake: open: value is not sealed")
	}
	aead, ok := k.open[id]
	if !ok {
		return "", fmt.Errorf("intake: open: unknown key ID %q", id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("intake: open: value is corrupt")
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(boundTo))
	if err != nil {
		return "", fmt.Errorf("intake: open: %w", err)
	}
	return string(pt), nil
}

// Hash is the keyed hash under which secrets (tokens, phone numbers) are
// looked up. Without the key, a stolen database cannot be searched by
// guessing tokens or numbers.
func (k *Keyring) Hash(purpose, value string) string {
	m := hmac.New(sha256.New, k.hashKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// NewKeySecret returns a fresh random key, for `tipline keys generate` and
// for the throwaway keys of the embedded demo store.
func NewKeySecret() []byte {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b)
	return b
}
