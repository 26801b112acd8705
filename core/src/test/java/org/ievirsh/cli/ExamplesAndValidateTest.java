package org.ievirsh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.spec.TemplateFit;
import org.ievirsh.support.Repo;
import org.ievirsh.template.TemplateLibrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ExamplesAndValidateTest checks every example file of the repository, and `ie-virsh validate` as students run it. */
class ExamplesAndValidateTest {
    @TempDir
    Path tmp;

    private static List<Path> exampleVms() throws IOException {
        try (Stream<Path> files = Files.list(Repo.path("examples/vms"))) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    @Test
    void everyExampleIsValidAgainstTheSchemaAndTheShippedTemplates() throws IOException {
        TemplateLibrary templates = new TemplateLibrary(Repo.path("templates"));
        assertEquals(java.util.Map.of(), templates.reload());
        TemplateFit fit = new TemplateFit(templates, "standard");
        List<Path> vms = exampleVms();
        assertTrue(vms.size() >= 3, vms.toString());
        for (Path vm : vms) {
            String text = Files.readString(vm);
            assertTrue(text.startsWith("# yaml-language-server: $schema="), vm + " tells editors its schema");
            VirtualMachineFile file = VirtualMachineFile.parse(vm.getFileName().toString(),
                    text.getBytes(StandardCharsets.UTF_8)).orThrow();
            assertTrue(fit.fit(file).isOk(), vm + ": " + fit.fit(file).problems());
            Path schema = vm.getParent().resolve(text.lines().findFirst().orElseThrow()
                    .replace("# yaml-language-server: $schema=", "").strip()).normalize();
            assertTrue(Files.isRegularFile(schema), "the schema line points at " + schema);
        }
        Path config = Repo.path("examples/controller.yaml");
        assertTrue(ControllerConfig.parse("controller.yaml", Files.readAllBytes(config)).isOk(),
                ControllerConfig.parse("controller.yaml", Files.readAllBytes(config)).problems().toString());
    }

    private static String run(int expectedExit, String... args) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertEquals(expectedExit, Main.run(args));
        } finally {
            System.setOut(stdout);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void validateSaysValidOrPrintsOneLinePerProblemAndExitsOne() throws IOException {
        Path config = Files.writeString(tmp.resolve("controller.yaml"), "templates: " + Repo.path("templates")
                + "\nblades: [{name: b, uri: \"test:///default\"}]\n");
        List<String> args = new java.util.ArrayList<>(List.of("validate", "--config", config.toString()));
        exampleVms().forEach(p -> args.add(p.toString()));
        String ok = run(0, args.toArray(String[]::new));
        assertTrue(ok.contains("web.yaml: valid"), ok);

        Path bad = Files.writeString(tmp.resolve("web.yaml"), "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  image: web.qcow2\n  vcpus: 16\n  memory: 64GiB\n  colour: red\n");
        String out = run(1, "validate", "--config", config.toString(), bad.toString());
        assertTrue(out.contains("web.yaml:7:3: spec.colour: unknown field"), out);

        Path big = Files.writeString(tmp.resolve("db.yaml"), "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  image: db.qcow2\n  memory: 64GiB\n");
        String limits = run(1, "validate", "--config", config.toString(), big.toString());
        assertTrue(limits.contains("db.yaml:5:11: spec.memory: 64GiB exceeds the template maximum 2GiB"), limits);
    }

    @Test
    void validateSaysWhichBasesServeNoVmAndWhy() throws IOException {
        Path bases = org.ievirsh.support.Bases.directory();
        org.ievirsh.support.Bases.base(bases, "good", "64M", "firstBoot: cloud-init\n");
        org.ievirsh.support.Bases.base(bases, "loose", "64M", null);
        org.ievirsh.support.Commands.ok("chmod", "666", bases.resolve("loose.qcow2").toString());
        Path config = Files.writeString(tmp.resolve("bases.yaml"), "templates: " + Repo.path("templates")
                + "\nimages: {root: " + tmp + "}\nbaseImages: {root: " + bases + "}\n"
                + "blades: [{name: b, uri: \"test:///default\"}]\n");
        String out = run(0, "validate", config.toString());
        assertTrue(out.contains("warning: bases.yaml: baseImages.root: loose.qcow2 serves no VM: it must be root's and"
                + " written by no one else"), out);
        assertTrue(!out.contains("good.qcow2"), out);

        // A VM file is checked against the catalog as the controller checks it.
        Path web = Files.writeString(tmp.resolve("web.yaml"), "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  baseImage: nosuch\n");
        assertTrue(run(1, "validate", "--config", config.toString(), web.toString())
                .contains("web.yaml:4:14: spec.baseImage: there is no base image nosuch (ie-virsh bases lists them)"));
        Path loose = Files.writeString(tmp.resolve("db.yaml"), "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  baseImage: loose\n");
        assertTrue(run(1, "validate", "--config", config.toString(), loose.toString())
                .contains("db.yaml:4:14: spec.baseImage: the base image loose serves no VM now: it must be root's"));
        Path small = Files.writeString(tmp.resolve("lab.yaml"), "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  baseImage: good\n  disk: 32MiB\n");
        assertTrue(run(1, "validate", "--config", config.toString(), small.toString())
                .contains("lab.yaml:5:9: spec.disk: spec.disk 32MiB is smaller than the base image good (64MiB)"));
        Path fits = Files.writeString(tmp.resolve("ok.yaml"), "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  baseImage: good\n  disk: 20GiB\n");
        assertTrue(run(0, "validate", "--config", config.toString(), fits.toString()).contains("ok.yaml: valid"));

        Path open = Files.writeString(tmp.resolve("open.yaml"), "templates: " + Repo.path("templates")
                + "\nimages: {root: " + tmp + "}\nbaseImages: {root: /tmp}\nblades: [{name: b, uri: \"test:///default\"}]\n");
        String tmpRoot = run(0, "validate", open.toString());
        assertTrue(tmpRoot.contains("baseImages.root: /tmp (uid 0, mode 1777) can be written by someone other than"
                + " root"), tmpRoot);
    }

    @Test
    void validateChecksCoursesAsTheControllerWould() throws IOException {
        Path config = Files.writeString(tmp.resolve("courses.yaml"), "templates: " + Repo.path("templates")
                + "\nimages: {root: " + tmp + "}\nblades: [{name: b, uri: \"test:///default\"}]\n"
                + "courses:\n  os:\n    students: ievirsh-no-such-group\n    vms:\n"
                + "      lab: {image: lab.qcow2, template: huge}\n      net: {baseImage: debian-12}\n");
        String out = run(1, "validate", config.toString());
        assertTrue(out.contains("courses.yaml: courses.os.vms.lab.template: there is no usable template huge"), out);
        assertTrue(out.contains("courses.yaml: courses.os.vms.net.baseImage: baseImages.root is not set"), out);
        assertTrue(out.contains("warning: courses.yaml: courses.os.students: no group ievirsh-no-such-group is known"),
                out);

        // A VM file naming a course the caller does not take is invalid, at its line, as the controller says.
        Path fine = Files.writeString(tmp.resolve("fine.yaml"), "templates: " + Repo.path("templates")
                + "\nimages: {root: " + tmp + "}\nblades: [{name: b, uri: \"test:///default\"}]\n"
                + "courses:\n  os:\n    students: ievirsh-no-such-group\n    vms:\n      lab: {image: lab.qcow2}\n");
        Path lab = Files.writeString(tmp.resolve("os-lab.yaml"), "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  image: lab.qcow2\n  course: os\n");
        String vm = run(1, "validate", "--config", fine.toString(), lab.toString());
        assertTrue(vm.contains("os-lab.yaml:5:11: spec.course: you are not a student of os (group"
                + " ievirsh-no-such-group)"), vm);
        Path other = Files.writeString(tmp.resolve("x.yaml"), "apiVersion: ie-virsh/v1\nkind: VirtualMachine\n"
                + "spec:\n  image: lab.qcow2\n  course: nosuch\n");
        assertTrue(run(1, "validate", "--config", fine.toString(), other.toString())
                .contains("x.yaml:5:11: spec.course: there is no course nosuch"));
    }
}
