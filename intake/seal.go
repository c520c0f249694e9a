package intake

import (
	"bytes"
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
	raw := k.sealRaw(make([]byte, 0, k.seal.NonceSize()+len(plaintext)+k.seal.Overhead()), []byte(plaintext), boundTo)
	return k.sealID + ":" + base64.RawStdEncoding.EncodeToString(raw)
}

// SealBytes is Seal for binary values such as images: "keyID:nonce|ciphertext"
// without base64, which would make the largest values in Redis a third
// larger. Redis strings hold any bytes, and key IDs never contain ':'.
func (k *Keyring) SealBytes(plaintext []byte, boundTo string) []byte {
	dst := make([]byte, 0, len(k.sealID)+1+k.seal.NonceSize()+len(plaintext)+k.seal.Overhead())
	dst = append(dst, k.sealID...)
	dst = append(dst, ':')
	return k.sealRaw(dst, plaintext, boundTo)
}

// sealRaw appends nonce|ciphertext to dst: the one place anything is
// encrypted, whatever form the value is stored in.
func (k *Keyring) sealRaw(dst, plaintext []byte, boundTo string) []byte {
	nonce := make([]byte, k.seal.NonceSize())
	_, _ = rand.Read(nonce)
	dst = append(dst, nonce...)
	return k.seal.Seal(dst, nonce, plaintext, []byte(boundTo))
}

// Open decrypts a value made by Seal with any key of the ring.
func (k *Keyring) Open(sealed, boundTo string) (string, error) {
	id, b64, ok := strings.Cut(sealed, ":")
	if !ok {
		return "", errors.New("intake: open: value is not sealed")
	}
	aead, err := k.opener(id)
	if err != nil {
		return "", err
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil {
		return "", errors.New("intake: open: value is corrupt")
	}
	pt, err := openRaw(aead, raw, boundTo)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// OpenBytes decrypts a value made by SealBytes with any key of the ring.
func (k *Keyring) OpenBytes(sealed []byte, boundTo string) ([]byte, error) {
	id, raw, ok := bytes.Cut(sealed, []byte(":"))
	if !ok {
		return nil, errors.New("intake: open: value is not sealed")
	}
	aead, err := k.opener(string(id))
	if err != nil {
		return nil, err
	}
	return openRaw(aead, raw, boundTo)
}

// opener is the key that sealed a value, found by the ID stored beside it.
func (k *Keyring) opener(id string) (cipher.AEAD, error) {
	aead, ok := k.open[id]
	if !ok {
		return nil, fmt.Errorf("intake: open: unknown key ID %.32q", id)
	}
	return aead, nil
}

// openRaw decrypts nonce|ciphertext, the counterpart of sealRaw.
func openRaw(aead cipher.AEAD, raw []byte, boundTo string) ([]byte, error) {
	if len(raw) < aead.NonceSize() {
		return nil, errors.New("intake: open: value is corrupt")
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(boundTo))
	if err != nil {
		return nil, fmt.Errorf("intake: open: %w", err)
	}
	return pt, nil
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
