package org.ievirsh.course;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.RunStrategy;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.junit.jupiter.api.Test;

class CoursePlannerTest {
    private static ControllerConfig.Course course(String yaml) {
        return ControllerConfig.parse("c.yaml", ("blades: [{name: b1, uri: \"test:///default\"}]\ncourses:\n  os2026:\n" + yaml)
                .getBytes(StandardCharsets.UTF_8)).orThrow().courses().get("os2026");
    }

    @Test
    void theDirectoryIsTheHomeAndThePatternAfterItsStarWhenItMatches() {
        assertEquals(Optional.of(Path.of("/home/alice/ie-virsh")), CoursePlanner.directoryOf("/home/*/ie-virsh",
                "/home/alice"));
        assertEquals(Optional.of(Path.of("/home/alice/ie-virsh")), CoursePlanner.directoryOf("/home/*/ie-virsh",
                "/home/alice/"));
        assertEquals(Optional.of(Path.of("/srv/u/alice")), CoursePlanner.directoryOf("/srv/u/*", "/srv/u/alice"));
        // A home elsewhere, a home with "..", a relative one, none: no directory the controller would read.
        assertEquals(Optional.empty(), CoursePlanner.directoryOf("/home/*/ie-virsh", "/var/lib/alice"));
        assertEquals(Optional.empty(), CoursePlanner.directoryOf("/home/*/ie-virsh", "/home/../etc"));
        assertEquals(Optional.empty(), CoursePlanner.directoryOf("/home/*/ie-virsh", "/home/a/b"));
        assertEquals(Optional.empty(), CoursePlanner.directoryOf("/home/*/ie-virsh", "home/alice"));
        assertEquals(Optional.empty(), CoursePlanner.directoryOf("/home/*/ie-virsh", ""));
        assertEquals(Optional.empty(), CoursePlanner.directoryOf("/home/alice/ie-virsh", "/home/alice"));
        assertEquals(List.of("ie-virsh"), CoursePlanner.belowHome(Path.of("/home/alice"),
                Path.of("/home/alice/ie-virsh")));
        assertEquals(List.of(), CoursePlanner.belowHome(Path.of("/srv/u/alice"), Path.of("/srv/u/alice")));
    }

    @Test
    void onlyTheVmsNotRecordedAreWritten() {
        ControllerConfig.Course c = course("    students: os2026\n    vms:\n      lab: {baseImage: debian-12}\n"
                + "      net: {baseImage: debian-12}\n");
        assertEquals(List.of("lab", "net"), CoursePlanner.toWrite(c, Set.of()).stream()
                .map(ControllerConfig.CourseVm::name).toList());
        assertEquals(List.of("net"), CoursePlanner.toWrite(c, Set.of("os2026-lab", "other")).stream()
                .map(ControllerConfig.CourseVm::name).toList());
        assertEquals(List.of(), CoursePlanner.toWrite(c, Set.of("os2026-lab", "os2026-net")));
    }

    @Test
    void theFileWrittenIsAValidVmFileOfTheCourse() {
        ControllerConfig.Course c = course("    students: os2026\n    vms:\n      lab: {baseImage: debian-12,"
                + " disk: 20GiB, template: small, runStrategy: Halted, vcpus: 1, memory: 1GiB, firstBoot: cloud-init,"
                + " description: \"a \\\"quoted\\\" \\\\ line: # not a comment\"}\n");
        ControllerConfig.CourseVm vm = c.vms().get("lab");
        assertEquals("os2026-lab.yaml", CourseFile.name(c, vm));
        Parsed<VirtualMachineFile> parsed = VirtualMachineFile.parse("os2026-lab.yaml", CourseFile.text(c, vm));
        assertTrue(parsed.isOk(), parsed.problems().toString());
        var spec = parsed.orThrow().vm();
        assertEquals(Optional.of("os2026"), spec.course());
        assertEquals(Optional.of("debian-12"), spec.baseImage());
        assertEquals(RunStrategy.Halted, spec.runStrategy());
        assertEquals(Optional.of("a \"quoted\" \\ line: # not a comment"), spec.description());
        assertEquals(20L << 30, spec.diskBytes().getAsLong());
        assertTrue(new String(CourseFile.text(c, vm), StandardCharsets.UTF_8).startsWith(CourseFile.firstLine(c)));
    }

    @Test
    void aCourseTheConfigCannotServeIsRefusedWhole() {
        String tooLong = "blades: [{name: b1, uri: \"test:///default\"}]\ncourses:\n  operating-systems-2026:\n    students: os\n    vms:\n"
                + "      laboratory-one: {baseImage: debian-12}\n";
        var parsed = ControllerConfig.parse("c.yaml", tooLong.getBytes(StandardCharsets.UTF_8));
        assertTrue(!parsed.isOk() && parsed.problems().get(0).toString().contains("longer than 32 characters"),
                parsed.problems().toString());
        var noDisk = ControllerConfig.parse("c.yaml", ("blades: [{name: b1, uri: \"test:///default\"}]\ncourses:\n  os:\n    students: os\n    vms:\n"
                + "      lab: {template: small}\n").getBytes(StandardCharsets.UTF_8));
        assertTrue(!noDisk.isOk() && noDisk.problems().get(0).toString().contains("write baseImage"),
                noDisk.problems().toString());
        var badName = ControllerConfig.parse("c.yaml", ("blades: [{name: b1, uri: \"test:///default\"}]\ncourses:\n  OS_2026:\n    students: os\n"
                + "    vms:\n      lab: {baseImage: b}\n").getBytes(StandardCharsets.UTF_8));
        assertTrue(!badName.isOk(), "a course name that is not a valid name");
        var badExpiry = ControllerConfig.parse("c.yaml", ("blades: [{name: b1, uri: \"test:///default\"}]\ncourses:\n  os:\n    students: os\n"
                + "    expires: 2027-02-30\n    vms:\n      lab: {baseImage: b}\n").getBytes(StandardCharsets.UTF_8));
        assertTrue(!badExpiry.isOk(), "no such date");
    }
}
