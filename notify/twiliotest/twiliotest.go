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

// Message is one message or call as the server received it. A call's
// Body is the TwiML it was given.
type Message struct {
	To, From, Body string
	At             time.Time
	SID            string
	StatusCallback string // where the sender asked for delivery reports
}

// Server is a fake Twilio API that keeps what it is sent.
type Server struct {
	*httptest.Server
	SID, Token string

	mu       sync.Mutex
	media    map[string][]byte // path → bytes, for MMS attachments
	messages []Message
	calls    []Message
	failures []int // status codes to answer with, one per request, before succeeding
	arrived  chan Message
	called   chan Message
	// afterAccept runs once a message or call is kept, before Twilio's
	// answer goes back: a test can stop the caller there, as if its
	// process died after sending and before recording.
	afterAccept func(Message)
}

// New starts a server that accepts the account sid with its auth token.
// Close it when done.
func New(sid, token string) *Server {
	s := &Server{SID: sid, Token: token, arrived: make(chan Message, 1024), called: make(chan Message, 1024)}
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

// Calls returns the calls placed so far.
func (s *Server) Calls() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.calls...)
}

// Called delivers each accepted call as it is placed.
func (s *Server) Called() <-chan Message { return s.called }

// AfterAccept sets a function that runs after a message or call is kept
// and before the answer is written.
func (s *Server) AfterAccept(f func(Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.afterAccept = f
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.SID || pass != s.Token {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	base := "/2010-04-01/Accounts/" + s.SID
	switch {
	case r.Method == http.MethodGet && r.URL.Path == base+"/Messages.json":
		s.list(w, r, "messages", func() []Message { return s.messages })
		return
	case r.Method == http.MethodGet && r.URL.Path == base+"/Calls.json":
		s.list(w, r, "calls", func() []Message { return s.calls })
		return
	case r.Method == http.MethodGet:
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
	case r.Method == http.MethodPost && r.URL.Path == base+"/Messages.json":
		s.create(w, r, false)
	case r.Method == http.MethodPost && r.URL.Path == base+"/Calls.json":
		s.create(w, r, true)
	default:
		twilioError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	}
}

// create takes a message or a call.
func (s *Server) create(w http.ResponseWriter, r *http.Request, call bool) {
	if err := r.ParseForm(); err != nil {
		twilioError(w, http.StatusBadRequest, 21600, "bad form")
		return
	}
	m := Message{To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"), At: time.Now(),
		StatusCallback: r.PostForm.Get("StatusCallback")}
	if call {
		m.Body = r.PostForm.Get("Twiml")
	}
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
	ch := s.arrived
	if call {
		m.SID = fmt.Sprintf("CA%032d", len(s.calls)+1)
		s.calls = append(s.calls, m)
		ch = s.called
	} else {
		m.SID = fmt.Sprintf("SM%032d", len(s.messages)+1)
		s.messages = append(s.messages, m)
	}
	after := s.afterAccept
	s.mu.Unlock()
	select {
	case ch <- m:
	default:
	}
	if after != nil {
		after(m)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(resource(s.SID, m, call))
}

// list answers a list request, newest first, filtered by To and From.
func (s *Server) list(w http.ResponseWriter, r *http.Request, name string, all func() []Message) {
	q := r.URL.Query()
	s.mu.Lock()
	var out []map[string]any
	items := all()
	for i := len(items) - 1; i >= 0; i-- {
		m := items[i]
		if (q.Get("To") == "" || q.Get("To") == m.To) && (q.Get("From") == "" || q.Get("From") == m.From) {
			out = append(out, resource(s.SID, m, name == "calls"))
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		name: out, "page": 0, "page_size": len(out), "next_page_uri": nil, "uri": r.URL.Path,
	})
}

// resource is a message or call as Twilio's API shows one.
func resource(sid string, m Message, call bool) map[string]any {
	r := map[string]any{
		"sid": m.SID, "account_sid": sid, "to": m.To, "from": m.From,
		"status": "queued", "direction": "outbound-api", "date_created": m.At.UTC().Format(time.RFC1123Z),
	}
	if !call {
		r["body"], r["num_segments"] = m.Body, "1"
	}
	return r
}

// twilioError answers as Twilio does when a request fails.
func twilioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}
