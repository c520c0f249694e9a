package web

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/intake"
)

// Results of a report, the values of tipline_reports_total's result label.
const (
	resultStored      = "stored"
	resultInvalid     = "invalid"
	resultUnavailable = "unavailable"
)

// metrics are the web layer's counters. They count; they never label by
// anything a reporter sent.
type metrics struct {
	reports *prometheus.CounterVec
	limited prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	reports := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tipline_reports_total",
		Help: "Reports submitted, by channel and result (stored, invalid, unavailable).",
	}, []string{"channel", "result"})
	limited := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "tipline_rate_limited_total",
		Help: "Requests refused because a client went over a rate limit.",
	})
	var err error
	if reports, err = register(reg, reports); err != nil {
		return nil, err
	}
	if limited, err = register(reg, limited); err != nil {
		return nil, err
	}
	// Every series exists from the start, so a rate() over a quiet
	// period reads zero rather than nothing.
	for _, ch := range []intake.Channel{intake.ChannelWeb, intake.ChannelAPI} {
		for _, r := range []string{resultStored, resultInvalid, resultUnavailable} {
			reports.WithLabelValues(string(ch), r)
		}
	}
	return &metrics{reports: reports, limited: limited}, nil
}

// register adds c to reg, or returns the collector already there: a second
// web server in one process (tests, a restart in place) shares the counters.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("web: register metrics: %w", err)
	}
	return c, nil
}

// report counts one report's outcome.
func (m *metrics) report(ch intake.Channel, result string) {
	m.reports.WithLabelValues(string(ch), result).Inc()
}
