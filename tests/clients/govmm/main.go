// main.go - Kata's govmm (Debian's golang-github-kata-containers-govmm-dev) against a QMP
// socket, as Kata drives QEMU: QMPStart (the version gate), qmp_capabilities, query-status,
// stop and cont with their events, query-cpus-fast and query-qmp-schema, system_powerdown
// (govmm waits for POWERDOWN), then the guest's panic events, then quit. Each step prints one
// line; any failure prints "FAIL ..." and exits 1. Usage: govmm-client SOCKET
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	qemu "github.com/kata-containers/govmm/qemu"
)

type logger struct{}

func (logger) V(level int32) bool                       { return false }
func (logger) Infof(format string, v ...interface{})    {}
func (logger) Warningf(format string, v ...interface{}) {}
func (logger) Errorf(format string, v ...interface{})   { fmt.Printf("govmm: "+format+"\n", v...) }

func fail(format string, v ...interface{}) {
	fmt.Printf("FAIL "+format+"\n", v...)
	os.Exit(1)
}

// waitEvent returns the first event called name, or fails after the timeout.
func waitEvent(events <-chan qemu.QMPEvent, name string, timeout time.Duration) qemu.QMPEvent {
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-events:
			fmt.Printf("EVENT %s %v\n", ev.Name, ev.Data)
			if ev.Name == name {
				return ev
			}
		case <-deadline:
			fail("no %s event within %v", name, timeout)
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: govmm-client SOCKET")
	}
	events := make(chan qemu.QMPEvent, 64)
	disconnected := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	defer cancel()

	q, ver, err := qemu.QMPStart(ctx, os.Args[1], qemu.QMPConfig{EventCh: events, Logger: logger{},
		MaxCapacity: 1 << 20}, /* QEMU's query-qmp-schema reply is 235 KB */
		disconnected)
	if err != nil {
		fail("QMPStart: %v", err)
	}
	fmt.Printf("VERSION %d.%d.%d %v\n", ver.Major, ver.Minor, ver.Micro, ver.Capabilities)
	if err := q.ExecuteQMPCapabilities(ctx); err != nil {
		fail("qmp_capabilities: %v", err)
	}
	st, err := q.ExecuteQueryStatus(ctx)
	if err != nil {
		fail("query-status: %v", err)
	}
	fmt.Printf("STATUS %s running=%v\n", st.Status, st.Running)
	if err := q.ExecuteStop(ctx); err != nil {
		fail("stop: %v", err)
	}
	waitEvent(events, "STOP", 30*time.Second)
	if st, err = q.ExecuteQueryStatus(ctx); err != nil || st.Status != "paused" {
		fail("query-status after stop: %v %v", st, err)
	}
	if err := q.ExecuteCont(ctx); err != nil {
		fail("cont: %v", err)
	}
	waitEvent(events, "RESUME", 30*time.Second)
	cpus, err := q.ExecQueryCpusFast(ctx)
	if err != nil {
		fail("query-cpus-fast: %v", err)
	}
	for _, c := range cpus {
		fmt.Printf("CPU %d thread=%d target=%s core=%d\n", c.CPUIndex, c.ThreadID, c.Target,
			c.Props.Core)
	}
	schema, err := q.ExecQueryQmpSchema(ctx)
	if err != nil {
		fail("query-qmp-schema: %v", err)
	}
	commands := 0
	for _, s := range schema {
		if s.MetaType == "command" {
			commands++
		}
	}
	fmt.Printf("SCHEMA %d entries, %d commands\n", len(schema), commands)
	if err := q.ExecuteSystemPowerdown(ctx); err != nil {
		fail("system_powerdown: %v", err)
	}
	fmt.Println("POWERDOWN seen")
	fmt.Println("WAITING for the guest's panic")
	waitEvent(events, "GUEST_PANICKED", 240*time.Second)
	if st, err = q.ExecuteQueryStatus(ctx); err != nil {
		fail("query-status after the panic: %v", err)
	}
	fmt.Printf("STATUS %s running=%v\n", st.Status, st.Running)
	if err := q.ExecuteQuit(ctx); err != nil {
		fail("quit: %v", err)
	}
	waitEvent(events, "SHUTDOWN", 30*time.Second)
	q.Shutdown()
	<-disconnected
	fmt.Println("DONE")
}
