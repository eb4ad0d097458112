// main.go - DigitalOcean's go-qemu (Debian's golang-github-digitalocean-go-qemu-dev) against a
// QMP socket: qmp.SocketMonitor, the generated raw monitor and qemu.Domain (Status, Version,
// Commands, Events, PCIDevices), as a tool built on it would use them; then stop/cont and
// system_powerdown seen as events, HMP through raw, the guest's panic, quit. Each step prints
// one line; any failure prints "FAIL ..." and exits 1. Usage: goqemu-client SOCKET
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/digitalocean/go-qemu/qemu"
	"github.com/digitalocean/go-qemu/qmp"
	"github.com/digitalocean/go-qemu/qmp/raw"
)

func fail(format string, v ...interface{}) {
	fmt.Printf("FAIL "+format+"\n", v...)
	os.Exit(1)
}

func waitEvent(events <-chan qmp.Event, name string, timeout time.Duration) qmp.Event {
	deadline := time.After(timeout)
	for {
		select {
		case ev := <-events:
			fmt.Printf("EVENT %s %v\n", ev.Event, ev.Data)
			if ev.Event == name {
				return ev
			}
		case <-deadline:
			fail("no %s event within %v", name, timeout)
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: goqemu-client SOCKET")
	}
	mon, err := qmp.NewSocketMonitor("unix", os.Args[1], 30*time.Second)
	if err != nil {
		fail("NewSocketMonitor: %v", err)
	}
	if err := mon.Connect(); err != nil {
		fail("Connect: %v", err)
	}
	fmt.Printf("GREETING %s\n", mon.Version.String())
	dom, err := qemu.NewDomain(mon, "guest")
	if err != nil {
		fail("NewDomain: %v", err)
	}
	stream, done, err := dom.Events()
	if err != nil {
		fail("Events: %v", err)
	}
	defer close(done)
	// go-qemu hands each event over unbuffered, and its reader waits for that before it reads
	// the next reply: keep taking them, or two events in a row (GUEST_PANICKED, STOP) block
	// the reply to the next command.
	events := make(chan qmp.Event, 64)
	go func() {
		for ev := range stream {
			events <- ev
		}
	}()
	rm := raw.NewMonitor(mon)

	st, err := dom.Status()
	if err != nil {
		fail("Status: %v", err)
	}
	fmt.Printf("STATUS %s\n", st)
	v, err := dom.Version()
	if err != nil {
		fail("Version: %v", err)
	}
	pkg, err := dom.PackageVersion()
	if err != nil {
		fail("PackageVersion: %v", err)
	}
	fmt.Printf("VERSION %s (%s)\n", v, pkg)
	cmds, err := dom.Commands()
	if err != nil {
		fail("Commands: %v", err)
	}
	fmt.Printf("COMMANDS %d\n", len(cmds))
	for _, want := range []string{"query-status", "human-monitor-command", "query-pci"} {
		if ok, err := dom.Supported(want); err != nil || !ok {
			fail("Supported(%s): %v %v", want, ok, err)
		}
	}
	pci, err := dom.PCIDevices()
	if err != nil {
		fail("PCIDevices: %v", err)
	}
	for _, d := range pci {
		fmt.Printf("PCI %02d.%d %04x:%04x class %04x %q", d.Slot, d.Function, d.ID.Vendor,
			d.ID.Device, d.ClassInfo.Class, d.ClassInfo.Desc)
		for _, r := range d.Regions {
			fmt.Printf(" BAR%d %s 0x%x+0x%x", r.Bar, r.Type, r.Address, r.Size)
		}
		fmt.Println()
	}
	kvm, err := rm.QueryKVM()
	if err != nil {
		fail("raw QueryKVM: %v", err)
	}
	name, err := rm.QueryName()
	if err != nil {
		fail("raw QueryName: %v", err)
	}
	uuid, err := rm.QueryUUID()
	if err != nil {
		fail("raw QueryUUID: %v", err)
	}
	fmt.Printf("KVM enabled=%v present=%v NAME %v UUID %s\n", kvm.Enabled, kvm.Present,
		deref(name.Name), uuid.UUID)
	out, err := rm.HumanMonitorCommand("info status", nil)
	if err != nil {
		fail("raw HumanMonitorCommand: %v", err)
	}
	fmt.Printf("HMP %q\n", out)
	chardevs, err := rm.QueryChardev()
	if err != nil {
		fail("raw QueryChardev: %v", err)
	}
	for _, c := range chardevs {
		fmt.Printf("CHARDEV %s %s open=%v\n", c.Label, c.Filename, c.FrontendOpen)
	}
	cpus, err := mon.Run([]byte(`{"execute": "query-cpus-fast"}`))
	if err != nil {
		fail("query-cpus-fast: %v", err)
	}
	var cf struct {
		Return []struct {
			Index  int `json:"cpu-index"`
			Thread int `json:"thread-id"`
		} `json:"return"`
	}
	if err := json.Unmarshal(cpus, &cf); err != nil {
		fail("query-cpus-fast reply: %v", err)
	}
	for _, c := range cf.Return {
		fmt.Printf("CPU %d thread=%d\n", c.Index, c.Thread)
	}

	if err := rm.Stop(); err != nil {
		fail("raw Stop: %v", err)
	}
	waitEvent(events, "STOP", 30*time.Second)
	if st, err = dom.Status(); err != nil || st != qemu.StatusPaused {
		fail("Status after stop: %v %v", st, err)
	}
	if err := rm.Cont(); err != nil {
		fail("raw Cont: %v", err)
	}
	waitEvent(events, "RESUME", 30*time.Second)
	if err := dom.SystemPowerdown(); err != nil {
		fail("SystemPowerdown: %v", err)
	}
	waitEvent(events, "POWERDOWN", 30*time.Second)
	fmt.Println("WAITING for the guest's panic")
	waitEvent(events, "GUEST_PANICKED", 240*time.Second)
	if st, err = dom.Status(); err != nil {
		fail("Status after the panic: %v", err)
	}
	fmt.Printf("STATUS %s\n", st)
	if err := rm.Quit(); err != nil {
		fail("raw Quit: %v", err)
	}
	waitEvent(events, "SHUTDOWN", 30*time.Second)
	fmt.Println("DONE")
}

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}
