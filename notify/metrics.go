package notify

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are paging's figures for /metrics: how soon pages go out and are
// acknowledged, and how often Twilio refuses. A nil *Metrics counts nothing.
type Metrics struct {
	timeToPage   *prometheus.HistogramVec
	timeToAck    *prometheus.HistogramVec
	twilioErrors *prometheus.CounterVec
}

// NewMetrics registers paging's metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		timeToPage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tipline_time_to_page_seconds",
			Help:    "From a tip's arrival to its first page accepted by Twilio, by urgency.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
		}, []string{"urgency"}),
		timeToAck: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tipline_time_to_ack_seconds",
			Help:    "From a tip's arrival to a reviewer's acknowledgement, by urgency and how.",
			Buckets: []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400},
		}, []string{"urgency", "via"}),
		twilioErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tipline_twilio_errors_total",
			Help: "Pages Twilio did not accept, by channel (sms, voice, notice).",
		}, []string{"channel"}),
	}
	for _, c := range []prometheus.Collector{m.timeToPage, m.timeToAck, m.twilioErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) paged(urgency string, d time.Duration) {
	if m != nil {
		m.timeToPage.WithLabelValues(urgency).Observe(d.Seconds())
	}
}

func (m *Metrics) acked(urgency, via string, d time.Duration) {
	if m != nil {
		m.timeToAck.WithLabelValues(urgency, via).Observe(d.Seconds())
	}
}

func (m *Metrics) twilioError(ch string) {
	if m != nil {
		m.twilioErrors.WithLabelValues(ch).Inc()
	}
}
