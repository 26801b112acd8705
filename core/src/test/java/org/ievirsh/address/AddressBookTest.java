package org.ievirsh.address;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.libvirt.Hypervisor;
import org.ievirsh.support.ManualTime;
import org.junit.jupiter.api.Test;

class AddressBookTest {

    /** More running VMs than the fleet-wide rate can ask in one {@link AddressBook#ASK_EVERY}. */
    private static final int VMS = AddressBook.ASKS_PER_SECOND * (int) AddressBook.ASK_EVERY.toSeconds() + 300;

    @Test
    void everyRunningVmGetsItsTurnAndAnAgentThatConnectsIsAskedAtOnce() throws Exception {
        ManualTime time = new ManualTime();
        FakeHypervisor blade = new FakeHypervisor("b1");
        List<String> uuids = new ArrayList<>();
        for (int i = 0; i < VMS; i++) {
            String uuid = String.format("00000000-0000-4000-8000-%012d", i);
            blade.define("<domain><name>vm" + i + "</name><uuid>" + uuid + "</uuid></domain>");
            blade.start(uuid);
            blade.agentAnswers.put("vm" + i, List.of(new Hypervisor.GuestNic(mac(i), List.of(ip(i)))));
            uuids.add(uuid);
        }
        try (AddressBook book = new AddressBook(new ControllerConfig.Addresses(List.of("agent"), List.of()), time,
                b -> Optional.of(blade), user -> { })) {
            for (int i = 0; i < VMS; i++) {
                book.running(key(i), "u", uuids.get(i), "b1", List.of(mac(i)), true);
            }
            assertEquals(VMS, book.notAskedYet());
            // Ten minutes of the timer's ticks (its own thread is not started: the test ticks it), enough for
            // every VM several times over at the fleet-wide rate.
            int tick = 0;
            int known = 0;
            for (; tick < 10 * 60 * 4 && known < VMS; tick++) {
                time.advance(Duration.ofMillis(250));
                book.askDue();
                if (tick % 40 == 39) {
                    Thread.sleep(20);  // the askers run on threads of their own
                    known = known(book, uuids);
                }
            }
            assertEquals(VMS, known(book, uuids), "VMs whose agent was asked, after " + tick / 4 + " s");
            assertEquals(0, book.notAskedYet());
            long perSecond = book.asked() / Math.max(1, tick / 4);
            assertTrue(perSecond <= AddressBook.ASKS_PER_SECOND, perSecond + " asks a second");

            // A class starts 200 VMs together, then a guest's agent connects (a reboot, a new address) while the
            // round is anywhere: it is asked at the next tick, before the VMs just started.
            for (int i = VMS; i < VMS + 200; i++) {
                book.running(key(i), "u", String.format("00000000-0000-4000-9000-%012d", i), "b1", List.of(mac(i)),
                        true);
            }
            int k = VMS / 2;
            blade.agentAnswers.put("vm" + k, List.of(new Hypervisor.GuestNic(mac(k), List.of("10.9.9.9"))));
            book.agentConnected(uuids.get(k));
            time.advance(Duration.ofMillis(250));
            book.askDue();
            List<VmStatus.Address> now = List.of();
            for (int wait = 0; wait < 500 && !now.equals(List.of(new VmStatus.Address("10.9.9.9", mac(k), "agent")));
                 wait++) {
                Thread.sleep(10);
                now = book.running(key(k), "u", uuids.get(k), "b1", List.of(mac(k)), true);
            }
            assertEquals(List.of(new VmStatus.Address("10.9.9.9", mac(k), "agent")), now,
                    "the agent that connected was asked at the next tick, before a class just started");
        }
    }

    @Test
    void aGuestWhoseAgentConnectsOverAndOverIsAskedOnceATick() throws Exception {
        ManualTime time = new ManualTime();
        FakeHypervisor blade = new FakeHypervisor("b1");
        String uuid = "00000000-0000-4000-8000-000000000001";
        blade.define("<domain><name>vm1</name><uuid>" + uuid + "</uuid></domain>");
        blade.start(uuid);
        blade.agentAnswers.put("vm1", List.of(new Hypervisor.GuestNic(mac(1), List.of(ip(1)))));
        try (AddressBook book = new AddressBook(new ControllerConfig.Addresses(List.of("agent"), List.of()), time,
                b -> Optional.of(blade), user -> { })) {
            book.running(key(1), "u", uuid, "b1", List.of(mac(1)), true);
            for (int tick = 0; tick < 3; tick++) {
                for (int i = 0; i < 10_000; i++) {
                    book.agentConnected(uuid);  // a hostile guest toggling its agent's channel
                }
                time.advance(Duration.ofMillis(250));
                book.askDue();
                for (int wait = 0; wait < 500 && book.asked() < tick + 1; wait++) {
                    Thread.sleep(10);
                }
                Thread.sleep(50);
                assertEquals(tick + 1, book.asked(), "one ask a tick, however many events");
            }
        }
    }

    private static int known(AddressBook book, List<String> uuids) {
        int known = 0;
        for (int i = 0; i < uuids.size(); i++) {
            List<VmStatus.Address> addresses = book.running(key(i), "u", uuids.get(i), "b1", List.of(mac(i)), true);
            if (addresses.equals(List.of(new VmStatus.Address(ip(i), mac(i), "agent")))) {
                known++;
            }
        }
        return known;
    }

    private static String key(int i) {
        return "u/vm" + i;
    }

    private static String mac(int i) {
        return String.format("52:54:00:00:%02x:%02x", i >> 8, i & 0xff);
    }

    private static String ip(int i) {
        return "10.0." + (i >> 8) + "." + (i & 0xff);
    }

    @Test
    void muteAgentsOfTwoStudentsDoNotKeepAThirdsAgentWaiting() throws Exception {
        ManualTime time = new ManualTime();
        FakeHypervisor blade = new FakeHypervisor("b1");
        // eve and mallory run two VMs each whose agent answers the handshake and never the command: each
        // question waits (libvirt's agent timeout) and fails. They toggle their agents' channels all along.
        List<String> mute = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String uuid = String.format("00000000-0000-4000-8000-%012d", i);
            blade.define("<domain><name>vm" + i + "</name><uuid>" + uuid + "</uuid></domain>");
            blade.start(uuid);
            blade.muteAgents.put("vm" + i, 1200L);
            mute.add(uuid);
        }
        String victim = "00000000-0000-4000-8000-000000000099";
        blade.define("<domain><name>vm99</name><uuid>" + victim + "</uuid></domain>");
        blade.start(victim);
        blade.agentAnswers.put("vm99", List.of(new Hypervisor.GuestNic(mac(99), List.of(ip(99)))));
        try (AddressBook book = new AddressBook(new ControllerConfig.Addresses(List.of("agent"), List.of()), time,
                b -> Optional.of(blade), user -> { })) {
            for (int i = 0; i < 4; i++) {
                book.running(key(i), i < 2 ? "eve" : "mallory", mute.get(i), "b1", List.of(mac(i)), true);
            }
            // Their agents have been asked once and made us wait (the mute back-off starts).
            for (int tick = 0; tick < 40; tick++) {
                mute.forEach(book::agentConnected);
                time.advance(Duration.ofMillis(250));
                book.askDue();
                Thread.sleep(100);
            }
            int muteQuestions = blade.addressCalls.get();
            // The victim's VM starts and its agent connects; the attack goes on.
            book.running("victim/vm", "victim", victim, "b1", List.of(mac(99)), true);
            book.agentConnected(victim);
            long t0 = System.nanoTime();
            List<VmStatus.Address> known = List.of();
            for (int tick = 0; tick < 200 && known.isEmpty(); tick++) {
                mute.forEach(book::agentConnected);
                time.advance(Duration.ofMillis(250));
                book.askDue();
                Thread.sleep(20);
                known = book.running("victim/vm", "victim", victim, "b1", List.of(mac(99)), true);
            }
            long waited = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertEquals(List.of(new VmStatus.Address(ip(99), mac(99), "agent")), known);
            assertTrue(waited < 1500, "the victim's agent was answered after " + waited + " ms");
            // Ten more minutes of toggling: the mute agents are asked again only as their back-off allows.
            for (int tick = 0; tick < 10 * 60 * 4; tick++) {
                mute.forEach(book::agentConnected);
                time.advance(Duration.ofMillis(250));
                book.askDue();
            }
            Thread.sleep(3000);
            int asked = blade.addressCalls.get() - muteQuestions - 1;
            assertTrue(asked <= 4 * 3, asked + " more questions to the mute agents in ten minutes");
        }
    }
}
