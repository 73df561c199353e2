package clock

import (
	"context"
	"testing"
	"time"
)

func TestManualFiresWaitersInOrderWhenMoved(t *testing.T) {
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	m := NewManual(start)
	late, early := m.After(2*time.Hour), m.After(time.Hour)
	if m.Waiters() != 2 || !m.Next().Equal(start.Add(time.Hour)) {
		t.Fatalf("waiters %d, next %v", m.Waiters(), m.Next())
	}
	m.Advance(90 * time.Minute)
	select {
	case at := <-early:
		if !at.Equal(start.Add(time.Hour)) {
			t.Errorf("fired with %v", at)
		}
	default:
		t.Fatal("a waiter due an hour in did not fire after 90 minutes")
	}
	select {
	case <-late:
		t.Fatal("a waiter due in two hours fired after 90 minutes")
	default:
	}
	m.Set(start) // never backwards
	if !m.Now().Equal(start.Add(90 * time.Minute)) {
		t.Errorf("clock went back to %v", m.Now())
	}
	if ch := m.After(0); len(ch) != 1 {
		t.Error("After(0) does not fire at once")
	}
}

func TestSleepStopsWithTheContext(t *testing.T) {
	m := NewManual(time.Unix(0, 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, m, time.Hour); err != context.Canceled {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
	before := m.Waiters()
	done := make(chan error)
	go func() { done <- Sleep(context.Background(), m, time.Minute) }()
	for m.Waiters() == before {
		time.Sleep(time.Millisecond)
	}
	m.Advance(time.Minute)
	if err := <-done; err != nil {
		t.Error(err)
	}
	if Or(nil) != Real || Or(m) != m {
		t.Error("Or does not default to Real")
	}
}

func TestManualWaitsFor(t *testing.T) {
	start := time.Date(2026, 3, 6, 7, 58, 0, 0, time.UTC)
	m := NewManual(start)
	if m.WaitsFor(start.Add(2 * time.Minute)) {
		t.Fatal("waits for 08:00 with no waiter")
	}
	m.After(2 * time.Minute)
	if !m.WaitsFor(start.Add(2*time.Minute)) || m.WaitsFor(start.Add(time.Minute)) {
		t.Fatal("WaitsFor does not tell the waiter's time")
	}
	m.Advance(2 * time.Minute)
	if m.WaitsFor(start.Add(2 * time.Minute)) {
		t.Fatal("a fired waiter still counts")
	}
}
