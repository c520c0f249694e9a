// Package twiliotest runs a local HTTP server that speaks the part of
// Twilio's REST API tipline uses, so tests send through the real twilio-go
// client and see what Twilio would have received.
package twiliotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Message is one message as the server received it.
type Message struct {
	To, From, Body string
	At             time.Time
}

// Server is a fake Twilio API that keeps what it is sent.
type Server struct {
	*httptest.Server
	SID, Token string

	mu       sync.Mutex
	media    map[string][]byte // path → bytes, for MMS attachments
	messages []Message
	failures []int // status codes to answer with, one per request, before succeeding
	arrived  chan Message
}

// New starts a server that accepts the account sid with its auth token.
// Close it when done.
func New(sid, token string) *Server {
	s := &Server{SID: sid, Token: token, arrived: make(chan Message, 1024)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// FailNext makes the next requests fail with these status codes, in order.
func (s *Server) FailNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, codes...)
}

// AddMedia makes an MMS attachment available and returns its URL, as
// Twilio's webhook would name it.
func (s *Server) AddMedia(data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.media == nil {
		s.media = map[string][]byte{}
	}
	path := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/MM%032d/Media/ME%032d", s.SID, len(s.media)+1, len(s.media)+1)
	s.media[path] = data
	return s.URL + path
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Arrived delivers each accepted message as it arrives.
func (s *Server) Arrived() <-chan Message { return s.arrived }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.SID || pass != s.Token {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.Method == http.MethodGet {
		s.mu.Lock()
		data, ok := s.media[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
			return
		}
		w.Header().Set("Content-Type", http.DetectContentType(data))
		_, _ = w.Write(data)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+s.SID+"/Messages.json" {
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if err := r.ParseForm(); err != nil {
		twilioError(w, http.StatusBadRequest, 21600, "bad form")
		return
	}
	m := Message{To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"), At: time.Now()}
	s.mu.Lock()
	if len(s.failures) > 0 {
		code := s.failures[0]
		s.failures = s.failures[1:]
		s.mu.Unlock()
		twilioError(w, code, 20500+code%100, http.StatusText(code))
		return
	}
	if !strings.HasPrefix(m.To, "+") || m.Body == "" {
		s.mu.Unlock()
		twilioError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number")
		return
	}
	s.messages = append(s.messages, m)
	sid := fmt.Sprintf("SM%032d", len(s.messages))
	s.mu.Unlock()
	select {
	case s.arrived <- m:
	default:
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid": sid, "account_sid": s.SID, "to": m.To, "from": m.From, "body": m.Body,
		"status": "queued", "num_segments": "1", "direction": "outbound-api",
	})
}

// twilioError answers as Twilio does when a request fails.
func twilioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}
