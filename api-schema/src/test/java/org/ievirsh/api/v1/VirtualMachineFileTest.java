package org.ievirsh.api.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;
import org.ievirsh.api.Parsed;
import org.ievirsh.api.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class VirtualMachineFileTest {

    private static final String HEADER = "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n";

    private static Parsed<VirtualMachineFile> parse(String fileName, String text) {
        return VirtualMachineFile.parse(fileName, text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void keptPositionsStillPointAtTheirFieldsAndShareTheirPathWithOtherFiles() {
        VirtualMachineFile one = parse("web.yaml", HEADER + "spec:\n  image: web.qcow2\n  memory: 2GiB\n").orThrow();
        VirtualMachineFile two = parse("db.yaml", HEADER + "spec:\n  image: db.qcow2\n  memory: 4GiB\n").orThrow();
        Problem memory = one.at("/spec/memory", "too much");
        assertEquals(List.of(5, 11, "spec.memory"), List.of(memory.line(), memory.column(), memory.path()));
        Problem vcpus = one.at("/spec/vcpus", "too many");
        assertEquals(List.of(4, 3, "spec"), List.of(vcpus.line(), vcpus.column(), vcpus.path()),
                "a field not written: its parent's place");
        assertSame(one.at("/spec/memory", "x").path(), two.at("/spec/memory", "y").path());
    }

    @Test
    void aCompleteFileGivesEveryField() {
        VirtualMachineFile file = parse("web.yaml", HEADER + "metadata:\n  name: web\nspec:\n  template: standard\n"
                + "  image: web.qcow2\n  runStrategy: Halted\n  vcpus: 2\n  memory: 2GiB\n"
                + "  description: my web server\n").orThrow();
        VirtualMachine vm = file.vm();
        assertEquals("web", vm.name());
        assertEquals("standard", vm.template().orElseThrow());
        assertEquals("web.qcow2", vm.image());
        assertEquals(RunStrategy.Halted, vm.runStrategy());
        assertEquals(2, vm.vcpus().getAsInt());
        assertEquals(2L << 30, vm.memoryBytes().getAsLong());
        assertTrue(file.specHash().matches("sha256:[0-9a-f]{64}"));
    }

    @Test
    void omittedFieldsAreEmptyAndRunStrategyDefaultsToAlways() {
        VirtualMachine vm = parse("db.yml", HEADER + "spec:\n  image: db.qcow2\n").orThrow().vm();
        assertEquals("db", vm.name());
        assertEquals(RunStrategy.Always, vm.runStrategy());
        assertTrue(vm.template().isEmpty());
        assertTrue(vm.vcpus().isEmpty());
        assertTrue(vm.memoryBytes().isEmpty());
    }

    static Stream<Arguments> hostileFiles() {
        return Stream.of(
                Arguments.of("unknown field", "web.yaml", HEADER + "spec:\n  image: a.qcow2\n  cpus: 4\n",
                        "web.yaml:5:3: spec.cpus: unknown field"),
                Arguments.of("wrong type", "web.yaml", HEADER + "spec:\n  image: a.qcow2\n  vcpus: two\n",
                        "web.yaml:5:10: spec.vcpus: must be a whole number, not the text \"two\""),
                Arguments.of("memory without unit", "web.yaml", HEADER + "spec:\n  image: a.qcow2\n  memory: 2G\n",
                        "web.yaml:5:11: spec.memory: \"2G\" is not valid: Memory"),
                Arguments.of("image with ..", "web.yaml", HEADER + "spec:\n  image: ../bob/web.qcow2\n",
                        "web.yaml:4:10: spec.image: \"../bob/web.qcow2\" is not valid"),
                Arguments.of("absolute image", "web.yaml", HEADER + "spec:\n  image: /etc/shadow\n",
                        "web.yaml:4:10: spec.image: \"/etc/shadow\" is not valid"),
                Arguments.of("image is only dots", "web.yaml", HEADER + "spec:\n  image: ..\n",
                        "web.yaml:4:10: spec.image: \"..\" is not valid"),
                Arguments.of("bad run strategy", "web.yaml", HEADER + "spec:\n  image: a.qcow2\n  runStrategy: always\n",
                        "web.yaml:5:16: spec.runStrategy: \"always\" must be one of Always, RerunOnFailure, Halted"),
                Arguments.of("wrong kind", "web.yaml", "apiVersion: ie-virsh/v1\nkind: Pod\nspec:\n  image: a\n",
                        "web.yaml:2:7: kind: must be VirtualMachine"),
                Arguments.of("missing image", "web.yaml", HEADER + "spec:\n  vcpus: 1\n",
                        "web.yaml:4:3: spec: write spec.image (a disk image of yours) or spec.baseImage"),
                Arguments.of("name differs", "web.yaml", HEADER + "metadata:\n  name: db\nspec:\n  image: a\n",
                        "web.yaml:4:9: metadata.name: \"db\" differs from the file name"),
                Arguments.of("xml in name", "web.yaml",
                        HEADER + "metadata:\n  name: \"<x>&'\\\"\"\nspec:\n  image: a\n",
                        "web.yaml:4:9: metadata.name: \"<x>&'\\\"\" is not valid"),
                Arguments.of("xml in template", "web.yaml", HEADER + "spec:\n  image: a\n  template: \"a'/><x\"\n",
                        "web.yaml:5:13: spec.template: \"a'/><x\" is not valid"),
                Arguments.of("control character in description", "web.yaml",
                        HEADER + "spec:\n  image: a\n  description: \"a\\u0001b\"\n",
                        "web.yaml:5:16: spec.description: \"a\\x01b\" is not valid"),
                Arguments.of("long description", "web.yaml",
                        HEADER + "spec:\n  image: a\n  description: " + "x".repeat(300) + "\n",
                        "web.yaml:5:16: spec.description: has 300 characters; at most 256"),
                Arguments.of("bad file name", "Web.yaml", HEADER + "spec:\n  image: a\n",
                        "Web.yaml: the file name makes the VM name \"Web\", which is not valid"),
                Arguments.of("dots in file name", "..yaml", HEADER + "spec:\n  image: a\n",
                        "..yaml: the file name makes the VM name \".\", which is not valid"),
                Arguments.of("base image outside the catalog", "web.yaml", HEADER + "spec:\n  baseImage: ../etc/shadow\n",
                        "web.yaml:4:14: spec.baseImage: \"../etc/shadow\" is not valid"),
                Arguments.of("overlay in another's directory", "web.yaml", HEADER
                        + "spec:\n  baseImage: debian-12\n  image: ../bob/web.qcow2\n",
                        "web.yaml:5:10: spec.image: \"../bob/web.qcow2\" is not valid"),
                Arguments.of("disk without a base", "web.yaml", HEADER + "spec:\n  image: a.qcow2\n  disk: 20GiB\n",
                        "web.yaml:5:9: spec.disk: it sizes the disk made from spec.baseImage"),
                Arguments.of("not a mapping", "web.yaml", "- a\n- b\n",
                        "web.yaml:1:1: must be a mapping"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileFiles")
    void hostileFilesGetAClearMessageWithPosition(String what, String fileName, String text, String expected) {
        Parsed<VirtualMachineFile> parsed = parse(fileName, text);
        assertFalse(parsed.isOk(), what);
        List<Problem> problems = parsed.problems();
        assertTrue(problems.stream().anyMatch(p -> p.toString().startsWith(expected)),
                what + ": expected a problem starting with [" + expected + "] but got " + problems);
    }

    @Test
    void descriptionsHoldingXmlAreAcceptedAsText() {
        VirtualMachine vm = parse("web.yaml", HEADER + "spec:\n  image: a\n  description: \"</metadata><evil/>&amp;\"\n")
                .orThrow().vm();
        assertEquals("</metadata><evil/>&amp;", vm.description().orElseThrow());
    }

    @Test
    void everyProblemIsReportedNotOnlyTheFirst() {
        Parsed<VirtualMachineFile> parsed = parse("web.yaml",
                HEADER + "spec:\n  image: a\n  vcpus: 0\n  memory: lots\n  colour: red\n");
        assertEquals(3, parsed.problems().size(), parsed.problems().toString());
    }

    @Test
    void theHashIsOfTheBytesAlsoForInvalidFiles() {
        assertEquals("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                VirtualMachineFile.hash(new byte[0]));
    }
}
