package org.ievirsh.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.ievirsh.api.v1.Condition;
import org.ievirsh.api.v1.Phase;
import org.ievirsh.api.v1.VmStatus;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.support.Commands;
import org.ievirsh.support.ManualTime;
import org.ievirsh.support.Root;
import org.ievirsh.template.DomainMetadata;
import org.ievirsh.template.RenderedDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatusWriterTest {
    @TempDir
    Path tmp;

    private final AtomicInteger clock = new AtomicInteger();
    private final java.util.Map<String, StatusWriter.Memory> memories = new java.util.HashMap<>();
    private final StatusWriter writer = new StatusWriter(() -> "2026-11-26T12:00:" + String.format("%02d",
            clock.incrementAndGet()) + "Z");

    private static VmStatus status(Phase phase, String readyStatus) {
        return new VmStatus("web", new VmStatus.Owner("alice", 4242), phase, phase.name().toLowerCase(),
                List.of(new Condition(Condition.READY, readyStatus, "Running", "", null)), "blade01", "alice-web",
                "u-u-i-d", "52:54:00:00:00:01", null, null, 2, "2GiB", "standard", "/srv/web.qcow2", null, "sha256:x",
                null);
    }

    private VmStatus write(Path userDir, VmStatus status) throws PosixException {
        return write(userDir, status, rendering("<domain/>", "sha256:r", Optional.empty()));
    }

    private VmStatus write(Path userDir, VmStatus status, RenderedDomain defined) throws PosixException {
        try (SafeDir dir = SafeDir.openTrusted(userDir);
             StatusWriter.Files files = writer.open(dir, memories.computeIfAbsent(userDir.toString(),
                     k -> new StatusWriter.Memory()), 4242, 4242)) {
            return files.write(status, Optional.of(defined));
        }
    }

    private static RenderedDomain rendering(String xml, String renderHash, Optional<String> description) {
        return new RenderedDomain(() -> xml, renderHash, new DomainMetadata(4242, "alice", "web", "sha256:x",
                renderHash, List.of(), 2, 2L << 30, description), "alice-web", "u-u-i-d", 2, 2L << 30,
                "/srv/web.qcow2", "qcow2");
    }

    @Test
    void theDefinitionIsRewrittenWhenWhatItsTextDependsOnChangesAndOnlyThen() throws Exception {
        Root.require();
        Path xml = tmp.resolve(".status/web.xml");
        write(tmp, status(Phase.Running, "True"), rendering("<domain/>", "sha256:r", Optional.empty()));
        assertEquals("<domain/>", Files.readString(xml));
        // A new rendering object of the same inputs (the next pass): its text is the same, the file is not touched.
        write(tmp, status(Phase.Running, "True"), rendering("<not-written/>", "sha256:r", Optional.empty()));
        assertEquals("<domain/>", Files.readString(xml));
        write(tmp, status(Phase.Running, "True"), rendering("<described/>", "sha256:r", Optional.of("mine")));
        assertEquals("<described/>", Files.readString(xml), "a new description is in the text");
        write(tmp, status(Phase.Running, "True"), rendering("<bigger/>", "sha256:r2", Optional.of("mine")));
        assertEquals("<bigger/>", Files.readString(xml), "a new rendering is in the text");
    }

    @Test
    void statusesStampedInOneSecondShareItsTextAndTheNextSecondHasItsOwn() {
        ManualTime clock = new ManualTime(Instant.parse("2025-12-03T12:00:00.100Z"));
        StatusWriter.Time time = StatusWriter.Time.seconds(clock);
        String first = time.now();
        assertEquals("2025-12-03T12:00:00Z", first);
        clock.advance(Duration.ofMillis(800));
        assertSame(first, time.now(), "the same second: the same string object");
        clock.advance(Duration.ofMillis(200));
        assertEquals("2025-12-03T12:00:01Z", time.now());
    }

    @Test
    void theStatusIsWrittenForTheStudentAndReadsBack() throws Exception {
        Root.require();
        VmStatus written = write(tmp, status(Phase.Running, "True"));
        Path file = tmp.resolve(".status/web.yaml");
        assertEquals(4242, Files.getAttribute(file, "unix:uid"));
        assertEquals(4242, Files.getAttribute(tmp.resolve(".status"), "unix:uid"));
        VmStatus back = StatusFiles.fromYaml("web.yaml", Files.readAllBytes(file)).orElseThrow();
        assertEquals(written, back);
        assertEquals("True", back.condition(Condition.READY).status());
        assertEquals("<domain/>", Files.readString(tmp.resolve(".status/web.xml")));
    }

    @Test
    void statusesArePrivateToTheirStudentAndOlderOnesBecomeSo() throws Exception {
        Root.require();
        write(tmp, status(Phase.Running, "True"));
        assertEquals("rwx------", mode(tmp.resolve(".status")));
        assertEquals("rw-------", mode(tmp.resolve(".status/web.yaml")));
        assertEquals("rw-------", mode(tmp.resolve(".status/web.xml")));

        // What an earlier controller left: world-readable.
        Path older = Files.createDirectories(tmp.resolve("older"));
        Path dir = Files.createDirectories(older.resolve(".status"));
        Files.writeString(dir.resolve("db.yaml"), "name: \"db\"\n");
        Commands.ok("chown", "-R", "4242:4242", dir.toString());
        Commands.ok("chmod", "755", dir.toString());
        Commands.ok("chmod", "644", dir.resolve("db.yaml").toString());
        write(older, status(Phase.Running, "True"));
        assertEquals("rwx------", mode(dir));
        assertEquals("rw-------", mode(dir.resolve("db.yaml")));
    }

    private static String mode(Path p) throws Exception {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p,
                java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void anUnchangedStatusIsNotRewrittenAndTransitionTimesOnlyMoveOnChange() throws Exception {
        Root.require();
        VmStatus first = write(tmp, status(Phase.Running, "True"));
        Path file = tmp.resolve(".status/web.yaml");
        Files.setLastModifiedTime(file, FileTime.fromMillis(1000));
        VmStatus again = write(tmp, status(Phase.Running, "True"));
        assertEquals(first, again);
        assertEquals(1000, Files.getLastModifiedTime(file).toMillis(), "not rewritten");

        VmStatus stopped = write(tmp, status(Phase.Stopped, "False"));
        assertTrue(stopped.condition(Condition.READY).lastTransitionTime()
                .compareTo(first.condition(Condition.READY).lastTransitionTime()) > 0);
        VmStatus messageOnly = write(tmp, new VmStatus("web", stopped.owner(), Phase.Stopped, "other words",
                stopped.conditions().stream().map(c -> c.at(null)).toList(), "blade01", "alice-web", "u-u-i-d",
                "52:54:00:00:00:01", null, null, 2, "2GiB", "standard", "/srv/web.qcow2", null, "sha256:x", null));
        assertEquals(stopped.condition(Condition.READY).lastTransitionTime(),
                messageOnly.condition(Condition.READY).lastTransitionTime());
    }

    @Test
    void aStatusDirectoryThatIsALinkIsNeverWrittenThrough() throws Exception {
        Path victim = Files.createDirectories(tmp.resolve("victim"));
        Path home = Files.createDirectories(tmp.resolve("home"));
        Files.createSymbolicLink(home.resolve(".status"), victim);
        assertThrows(PosixException.class, () -> write(home, status(Phase.Running, "True")));
        try (var list = Files.list(victim)) {
            assertEquals(0, list.count());
        }
    }

    @Test
    void aStatusFileThatIsALinkIsReplacedNotFollowed() throws Exception {
        Root.require();
        Path victim = Files.writeString(tmp.resolve("victim.txt"), "root's file");
        Path status = Files.createDirectories(tmp.resolve("home/.status"));
        Files.createSymbolicLink(status.resolve("web.yaml"), victim);
        Files.createSymbolicLink(status.resolve("web.xml"), victim);
        write(tmp.resolve("home"), status(Phase.Running, "True"));
        assertEquals("root's file", Files.readString(victim));
        assertFalse(Files.isSymbolicLink(status.resolve("web.yaml")));
        assertFalse(Files.isSymbolicLink(status.resolve("web.xml")));
    }

    @Test
    void theFileHoldsTheContractsFieldsByTheirNames() throws Exception {
        Root.require();
        write(tmp, status(Phase.Running, "True"));
        String yaml = Files.readString(tmp.resolve(".status/web.yaml"));
        java.util.Map<String, Object> top = new org.yaml.snakeyaml.Yaml().load(yaml);
        for (String key : List.of("name", "owner", "phase", "message", "conditions", "blade", "domain", "uuid",
                "mac", "vcpus", "memory", "template", "image", "observedSpecHash", "updatedAt")) {
            assertTrue(top.containsKey(key), key + " in\n" + yaml);
        }
        assertEquals(java.util.Map.of("user", "alice", "uid", 4242), top.get("owner"));
        assertEquals("Running", top.get("phase"));
        assertEquals("blade01", top.get("blade"));
        assertEquals("alice-web", top.get("domain"));
        assertEquals("52:54:00:00:00:01", top.get("mac"));
        assertEquals(2, top.get("vcpus"));
        assertEquals("2GiB", top.get("memory"));
        assertEquals("sha256:x", top.get("observedSpecHash"));
        assertTrue(((String) top.get("updatedAt")).matches("2026-11-26T12:00:\\d\\dZ"), yaml);
        assertFalse(top.containsKey("ip"), "no ip while none is known");
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> ready = ((List<java.util.Map<String, Object>>) top.get("conditions")).get(0);
        assertEquals(java.util.Set.of("type", "status", "reason", "message", "lastTransitionTime"), ready.keySet());
        assertEquals("Ready", ready.get("type"));
        assertEquals("True", ready.get("status"));
    }

    @Test
    void anyTextSurvivesTheRoundTrip() {
        String message = "web.yaml:3:1: \"quoted\" \\ back\nslash\ttab \u0001 ctl \ud83d\ude00 ok: [x] # y";
        VmStatus s = new VmStatus("web", new VmStatus.Owner("alice", 1), Phase.Invalid, message, List.of(), null,
                null, null, null, null, null, null, null, null, null, null, null, null);
        assertEquals(message, StatusFiles.fromYaml("web.yaml", StatusFiles.toYaml(s)).orElseThrow().message());
    }

    @Test
    void everyCharacterAStudentCanWriteSurvivesTheRoundTrip() {
        // C1 controls (U+009B is a terminal's CSI), NEL and the line separators YAML 1.1 folds, the BOM, U+FFFF:
        // each one raw in the file made it unreadable to the CLI. Every character of the BMP but the halves of
        // a surrogate pair, a thousand at a time.
        StringBuilder all = new StringBuilder();
        for (int c = 0; c <= 0xffff; c++) {
            if (!Character.isSurrogate((char) c)) {
                all.append((char) c);
            }
        }
        for (int from = 0; from < all.length(); from += 1000) {
            String message = all.substring(from, Math.min(all.length(), from + 1000));
            VmStatus s = new VmStatus("web", new VmStatus.Owner("alice", 1), Phase.Invalid, message, List.of(), null,
                    null, null, null, null, null, null, null, null, null, null, null, null);
            assertEquals(message, StatusFiles.fromYaml("web.yaml", StatusFiles.toYaml(s)).map(VmStatus::message)
                    .orElse("(unreadable)"), "characters from U+" + Integer.toHexString(from));
        }
    }

    @Test
    void halfASurrogatePairIsWrittenAsTheReplacementCharacter() {
        VmStatus s = new VmStatus("web", new VmStatus.Owner("alice", 1), Phase.Invalid, "a\ud800b", List.of(), null,
                null, null, null, null, null, null, null, null, null, null, null, null);
        assertEquals("a\ufffdb", StatusFiles.fromYaml("web.yaml", StatusFiles.toYaml(s)).orElseThrow().message());
    }

    @Test
    void statusTextsStayTextWhenReadBack() {
        VmStatus s = status(Phase.Running, "True");
        String yaml = new String(StatusFiles.toYaml(s));
        assertTrue(yaml.contains("status: \"True\""), yaml);
        assertTrue(yaml.contains("mac: \"52:54:00:00:00:01\""), yaml);
        assertEquals("True", StatusFiles.fromYaml("web.yaml", StatusFiles.toYaml(s)).orElseThrow()
                .condition(Condition.READY).status());
    }
}
