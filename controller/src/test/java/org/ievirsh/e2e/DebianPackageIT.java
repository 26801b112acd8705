package org.ievirsh.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.ievirsh.support.Commands;
import org.ievirsh.support.Repo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * DebianPackageIT installs the package the build made as a Debian admin
 * does (README "Install"): lintian first; then the package of an older
 * version made in the same run, an edit of the config, the upgrade to this
 * one (the edit stays), the installed commands, the man pages; then purge,
 * which leaves nothing of the package and never a student's image.
 */
@EnabledIfSystemProperty(named = "ievirsh.e2e", matches = "true")
class DebianPackageIT {
    private static final Map<String, String> APT = Map.of("DEBIAN_FRONTEND", "noninteractive");
    /** Everything the package puts on the machine, and what it makes there. */
    private static final List<String> PATHS = List.of("/usr/bin/ie-virsh", "/usr/bin/ie-virsh-controller",
            "/usr/share/ie-virsh", "/usr/share/doc/ie-virsh", "/etc/ie-virsh", "/lib/systemd/system/ie-virsh-controller.service",
            "/usr/share/man/man1/ie-virsh.1.gz", "/usr/share/man/man8/ie-virsh-controller.8.gz",
            "/usr/share/bash-completion/completions/ie-virsh", "/var/cache/ie-virsh", "/var/lib/ie-virsh");

    @TempDir
    Path tmp;

    private static Path built() throws Exception {
        Path target = Path.of(System.getProperty("ievirsh.jar")).getParent();
        try (var list = Files.list(target)) {
            return list.filter(p -> p.getFileName().toString().matches("ie-virsh_.*-1_all\\.deb")).findFirst()
                    .orElseThrow(() -> new AssertionError("mvn package made no .deb in " + target));
        }
    }

    private static Commands.Result apt(String... args) {
        List<String> command = new ArrayList<>(List.of("apt-get", "-y", "-q", "--no-install-recommends"));
        command.addAll(List.of(args));
        return Commands.run(command, APT);
    }

    private static List<String> left() {
        return PATHS.stream().filter(p -> Files.exists(Path.of(p), java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList();
    }

    @Test
    void installUpgradeAndPurgeAsAnAdminDoes() throws Exception {
        assertFalse(Commands.run(List.of("dpkg-query", "-W", "-f=${Status}", "ie-virsh")).output()
                .contains("install ok installed"), "ie-virsh is installed here: this test installs and purges it");
        assertEquals(List.of(), left(), "files of an earlier install are in the way");
        Path deb = built();
        String version = deb.getFileName().toString().replaceAll("^ie-virsh_(.*)-1_all\\.deb$", "$1");

        Commands.Result lintian = Commands.run(List.of("lintian", "--tag-display-limit", "0", deb.toString()));
        System.out.println("lintian:\n" + lintian.output());
        assertFalse(lintian.output().lines().anyMatch(l -> l.startsWith("E: ")), lintian.output());

        // The package of an earlier version, made in this run from the same jar.
        Commands.ok(Repo.path("packaging/deb/build.sh").toString(), "2.9.0",
                System.getProperty("ievirsh.jar"), tmp.toString());
        Path old = tmp.resolve("ie-virsh_2.9.0-1_all.deb");
        try {
            Commands.Result installed = apt("install", old.toString());
            assertEquals(0, installed.code(), installed.output());
            assertEquals("2.9.0-1", Commands.ok("dpkg-query", "-W", "-f=${Version}", "ie-virsh"));
            // The admin edits the config (a conffile).
            Path config = Path.of("/etc/ie-virsh/controller.yaml");
            Files.writeString(config, Files.readString(config) + "# edited by the admin\n");
            Commands.Result upgraded = apt("install", deb.toString());
            assertEquals(0, upgraded.code(), upgraded.output());
            assertEquals(version + "-1", Commands.ok("dpkg-query", "-W", "-f=${Version}", "ie-virsh"));
            assertTrue(Files.readString(config).endsWith("# edited by the admin\n"), "the admin's edit is kept");

            assertEquals("ie-virsh " + version, Commands.ok("ie-virsh", "--version").strip());
            Commands.Result validate = Commands.run(List.of("ie-virsh", "validate", config.toString()));
            assertEquals(0, validate.code(), "the installed config is ready to enable: " + validate.output());
            assertEquals("/usr/share/man/man1/ie-virsh.1.gz", Commands.ok("man", "-w", "ie-virsh").strip());
            assertEquals("/usr/share/man/man8/ie-virsh-controller.8.gz",
                    Commands.ok("man", "-w", "ie-virsh-controller").strip());
            assertTrue(Commands.ok("bash", "-c", "source /usr/share/bash-completion/completions/ie-virsh"
                    + " && complete -p ie-virsh").contains("ie-virsh"), "bash completion");
            assertEquals("711", Commands.ok("stat", "-c", "%a", "/var/lib/ie-virsh/images").strip());

            // Purge: a student's image stays; everything of the package goes (the class archive and a token too).
            Path student = Files.createDirectories(Path.of("/var/lib/ie-virsh/images/ievdeb"));
            Files.writeString(student.resolve("web.qcow2"), "a student's disk");
            Files.writeString(Path.of("/var/cache/ie-virsh/controller.jsa"), "archive");
            Files.writeString(Path.of("/etc/ie-virsh/http-token"), "secret\n");
            Commands.Result purged = apt("purge", "ie-virsh");
            assertEquals(0, purged.code(), purged.output());
            assertEquals("a student's disk", Files.readString(student.resolve("web.qcow2")));
            assertEquals(List.of("/var/lib/ie-virsh"), left());
            Commands.ok("rm", "-r", "/var/lib/ie-virsh");

            // And a purge with nothing of the students' leaves nothing at all.
            assertEquals(0, apt("install", deb.toString()).code());
            assertEquals(0, apt("purge", "ie-virsh").code());
            assertEquals(List.of(), left());
        } finally {
            apt("purge", "ie-virsh");
            Commands.run(List.of("rm", "-rf", "/var/lib/ie-virsh/images/ievdeb"));
        }
    }
}
