package org.ievirsh.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.blade.Blade;
import org.ievirsh.blade.Fleet;
import org.ievirsh.course.ConsoleWatch;
import org.ievirsh.libvirt.DomainState;
import org.ievirsh.libvirt.FakeBladeLink;
import org.ievirsh.libvirt.FakeHypervisor;
import org.ievirsh.libvirt.StopReason;
import org.ievirsh.metrics.Metrics;
import org.ievirsh.metrics.PerVmCollector;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.quota.QuotaLimits;
import org.ievirsh.spec.UserFiles;
import org.ievirsh.status.StatusBook;
import org.ievirsh.status.StatusFiles;
import org.ievirsh.users.Owner;
import org.ievirsh.users.UserIndex;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PublisherTest: what one pass leaves in a student's .status and in the admins' book. */
class PublisherTest {
    @TempDir
    Path tmp;
    private Path dir;
    private Path status;
    private UserIndex.Entry entry;
    private final StatusBook book = new StatusBook();
    private final UserMemory memory = new UserMemory();
    private Publisher publisher;

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createDirectory(tmp.resolve("ie-virsh"));
        status = Files.createDirectory(dir.resolve(StatusFiles.DIRECTORY));
        int uid = (Integer) Files.getAttribute(dir, "unix:uid");
        int gid = (Integer) Files.getAttribute(dir, "unix:gid");
        entry = new UserIndex.Entry(dir, uid, new Owner("alice", uid, gid, List.of(), uid, gid));
        Blade blade = new Blade(new ControllerConfig.Blade("blade01", "fake:///blade01", true,
                ControllerConfig.Resources.NONE, ControllerConfig.Capacity.REPORTED),
                new FakeBladeLink(new FakeHypervisor("blade01")));
        Fleet fleet = new Fleet(List.of(blade));
        publisher = new Publisher(Reconcilers.statusWriter(Clock.fixed(PlannerFixture.NOW, ZoneOffset.UTC)), book,
                new Metrics(new SimpleMeterRegistry()), new PerVmCollector(fleet, book), new ConsoleWatch());
    }

    /** One pass over alice's VM web, running; {@code away}: VMs whose blade does not answer. */
    private boolean pass(Set<String> away) throws Exception {
        VmFacts facts = new PlannerFixture().domain(DomainState.RUNNING, StopReason.UNKNOWN).facts();
        VmPlan plan = VmPlanner.plan(facts);
        try (UserFacts user = new UserFacts(entry, SafeDir.openTrusted(dir), true, UserFiles.NONE,
                new TreeMap<>(java.util.Map.of("web", facts)), QuotaLimits.DEFAULT,
                new QuietUser.Builder(entry, 0, 0, 0, 0), List.of(), Optional.empty(), away, PlannerFixture.NOW, 1)) {
            return publisher.publish(user, List.of(new Converger.Converged(facts, plan, 0, Optional.empty(),
                    Optional.empty())), memory);
        }
    }

    @Test
    void eachVmsStatusIsWrittenAndTheFilesOfVmsThatAreGoneGoButNotOfVmsAway() throws Exception {
        Files.writeString(status.resolve("old.yaml"), "phase: Running\n");
        Files.writeString(status.resolve("db.yaml"), "phase: Running\n");
        Files.writeString(status.resolve("README.txt"), "a student's own file\n");
        assertTrue(pass(Set.of("db")));
        assertTrue(Files.readString(status.resolve("web.yaml")).contains("phase: \"Running\""));
        assertFalse(Files.exists(status.resolve("old.yaml")), "its VM is gone");
        assertTrue(Files.exists(status.resolve("db.yaml")), "its blade does not answer: what is known stays");
        assertTrue(Files.exists(status.resolve("README.txt")), "not a file the controller writes");
        assertEquals(Phase.Running, book.ofUser("alice").get("web").phase());
    }

    @Test
    void anUnchangedStatusIsNotWrittenAgain() throws Exception {
        assertTrue(pass(Set.of()));
        Object inode = Files.getAttribute(status.resolve("web.yaml"), "unix:ino");
        assertTrue(pass(Set.of()));
        assertEquals(inode, Files.getAttribute(status.resolve("web.yaml"), "unix:ino"));
    }

    @Test
    void aStatusDirectoryThatIsALinkIsNotWrittenThrough() throws Exception {
        Path elsewhere = Files.createDirectory(tmp.resolve("elsewhere"));
        Files.delete(status);
        Files.createSymbolicLink(status, elsewhere);
        assertFalse(pass(Set.of()), "not written");
        try (var files = Files.list(elsewhere)) {
            assertEquals(0, files.count());
        }
        assertEquals(Phase.Running, book.ofUser("alice").get("web").phase(), "the admins still see it");
    }
}
