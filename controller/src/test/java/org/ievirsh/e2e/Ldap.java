package org.ievirsh.e2e;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.ievirsh.support.Commands;

/**
 * Ldap is a department's directory on this machine, for the tests: its own
 * OpenLDAP {@code slapd} on loopback (a temporary configuration and mdb
 * database, {@code posixAccount} and {@code posixGroup} entries), reached
 * through NSS by {@code nslcd} with enumeration off and time limits of 3 s,
 * as departments run it. nslcd rather than sssd: it is the smaller client,
 * needs no domain enrolment, and blocks a caller for its time limits when
 * the server hangs, which is the case to test. {@code /etc/nslcd.conf} and
 * {@code /etc/nsswitch.conf} are put back as they were, and what was
 * started is stopped, by {@link #close}.
 */
final class Ldap implements AutoCloseable {
    static final String BASE = "dc=ievirsh,dc=test";
    private static final Path NSSWITCH = Path.of("/etc/nsswitch.conf");
    private static final Path NSLCD_CONF = Path.of("/etc/nslcd.conf");

    private final Path dir;
    private final int port;
    private final byte[] nsswitch;
    private final byte[] nslcdConf;
    private boolean wasRunning;

    private Ldap(Path dir, int port) throws IOException {
        this.dir = dir;
        this.port = port;
        this.nsswitch = Files.readAllBytes(NSSWITCH);
        this.nslcdConf = Files.exists(NSLCD_CONF) ? Files.readAllBytes(NSLCD_CONF) : null;
    }

    /** An account of the directory, with its own group; {@code groups} are posixGroups it is a member of. */
    record Account(String name, int uid, Path home, List<String> groups) {
    }

    /** A posixGroup of the directory. */
    record Group(String name, int gid) {
    }

    /** Starts slapd with {@code accounts} and {@code groups}, then nslcd, then points NSS at it. */
    static Ldap start(Path dir, List<Account> accounts, List<Group> groups) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Ldap ldap = new Ldap(Files.createDirectories(dir), port);
        try {
            ldap.startSlapd(accounts, groups);
            ldap.startNslcd();
            Files.writeString(NSSWITCH, new String(ldap.nsswitch, java.nio.charset.StandardCharsets.UTF_8)
                    .replaceAll("(?m)^(passwd|group):.*$", "$1:         files ldap"));
            return ldap;
        } catch (IOException | RuntimeException | Error e) {
            ldap.close();
            throw e;
        }
    }

    private void startSlapd(List<Account> accounts, List<Group> groups) throws IOException {
        Files.createDirectories(dir.resolve("db"));
        Files.writeString(dir.resolve("slapd.conf"), "include /etc/ldap/schema/core.schema\n"
                + "include /etc/ldap/schema/cosine.schema\ninclude /etc/ldap/schema/nis.schema\n"
                + "include /etc/ldap/schema/inetorgperson.schema\n"
                + "pidfile " + dir.resolve("slapd.pid") + "\nargsfile " + dir.resolve("slapd.args") + "\n"
                + "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
                + "database mdb\nsuffix \"" + BASE + "\"\nrootdn \"cn=admin," + BASE + "\"\nrootpw secret\n"
                + "directory " + dir.resolve("db") + "\nmaxsize 10485760\n"
                + "access to * by * read\n");
        StringBuilder ldif = new StringBuilder("dn: " + BASE + "\nobjectClass: dcObject\nobjectClass: organization\n"
                + "o: ievirsh\ndc: ievirsh\n\ndn: ou=people," + BASE + "\nobjectClass: organizationalUnit\n"
                + "ou: people\n\ndn: ou=groups," + BASE + "\nobjectClass: organizationalUnit\nou: groups\n\n");
        for (Account a : accounts) {
            ldif.append("dn: uid=").append(a.name()).append(",ou=people,").append(BASE)
                    .append("\nobjectClass: account\nobjectClass: posixAccount\nuid: ").append(a.name())
                    .append("\ncn: ").append(a.name()).append("\nuidNumber: ").append(a.uid())
                    .append("\ngidNumber: ").append(a.uid()).append("\nhomeDirectory: ").append(a.home())
                    .append("\nloginShell: /bin/sh\n\n");
            ldif.append("dn: cn=").append(a.name()).append(",ou=groups,").append(BASE)
                    .append("\nobjectClass: posixGroup\ncn: ").append(a.name()).append("\ngidNumber: ")
                    .append(a.uid()).append("\n\n");
        }
        for (Group g : groups) {
            ldif.append("dn: cn=").append(g.name()).append(",ou=groups,").append(BASE)
                    .append("\nobjectClass: posixGroup\ncn: ").append(g.name()).append("\ngidNumber: ")
                    .append(g.gid()).append("\n");
            for (Account a : accounts) {
                if (a.groups().contains(g.name())) {
                    ldif.append("memberUid: ").append(a.name()).append("\n");
                }
            }
            ldif.append("\n");
        }
        Files.writeString(dir.resolve("data.ldif"), ldif);
        Commands.ok("slapadd", "-q", "-f", dir.resolve("slapd.conf").toString(), "-l",
                dir.resolve("data.ldif").toString());
        Commands.ok("slapd", "-f", dir.resolve("slapd.conf").toString(), "-h", "ldap://127.0.0.1:" + port + "/");
        Commands.ok("ldapsearch", "-x", "-H", "ldap://127.0.0.1:" + port + "/", "-b", BASE, "-s", "base");
    }

    private void startNslcd() throws IOException {
        // An nslcd the machine runs already (its package's own start) is stopped, and started again at the end.
        wasRunning = Commands.run(List.of("pgrep", "-x", "nslcd")).code() == 0;
        if (wasRunning) {
            kill(Path.of("/run/nslcd/nslcd.pid"));
            Commands.run(List.of("pkill", "-x", "nslcd"));
        }
        Files.writeString(NSLCD_CONF, "uid nslcd\ngid nslcd\nuri ldap://127.0.0.1:" + port + "/\nbase " + BASE + "\n"
                + "timelimit 3\nbind_timelimit 3\nidle_timelimit 10\nreconnect_sleeptime 1\nreconnect_retrytime 3\n"
                + "nss_disable_enumeration yes\n"
                // A local account's groups are never asked of LDAP: libvirtd looks up the groups of every
                // QEMU's uid (the student's) at each start, and would wait for a hung server otherwise.
                + "nss_initgroups_ignoreusers ALLLOCAL\n");
        Commands.ok("chmod", "0640", NSLCD_CONF.toString());
        Commands.ok("chgrp", "nslcd", NSLCD_CONF.toString());
        Commands.ok("install", "-d", "-o", "nslcd", "-g", "nslcd", "/run/nslcd");
        Commands.ok("nslcd");
    }

    /**
     * nslcd started again, as an admin does after adding a local account: {@code ALLLOCAL} is the list of
     * {@code /etc/passwd}'s accounts nslcd makes when it starts (nslcd.conf(5)), so an account added later
     * has its groups asked of LDAP until then.
     */
    void restartNslcd() {
        kill(Path.of("/run/nslcd/nslcd.pid"));
        Commands.ok("nslcd");
    }

    /** slapd stops answering, its port still open (a hung server): nslcd waits its time limits. */
    void hang() {
        signal("STOP");
    }

    /** slapd answers again. */
    void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Commands.ok("kill", "-" + name, Files.readString(dir.resolve("slapd.pid")).strip());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        try {
            Files.write(NSSWITCH, nsswitch);
            if (nslcdConf != null) {
                Files.write(NSLCD_CONF, nslcdConf);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot put back " + NSSWITCH + " and " + NSLCD_CONF, e);
        }
        Path nslcdPid = Path.of("/run/nslcd/nslcd.pid");
        kill(nslcdPid);
        Path slapdPid = dir.resolve("slapd.pid");
        if (Files.exists(slapdPid)) {
            resume();
        }
        kill(slapdPid);
        if (wasRunning) {
            Commands.run(List.of("nslcd"));
        }
    }

    private static void kill(Path pidFile) {
        try {
            if (!Files.exists(pidFile)) {
                return;
            }
            String pid = Files.readString(pidFile).strip();
            Commands.run(List.of("kill", pid));
            for (int i = 0; i < 100 && Files.exists(Path.of("/proc", pid)); i++) {
                TimeUnit.MILLISECONDS.sleep(50);
            }
            Commands.run(List.of("kill", "-9", pid));
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
