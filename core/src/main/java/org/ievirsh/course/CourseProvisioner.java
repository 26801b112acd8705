package org.ievirsh.course;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import org.ievirsh.api.v1.ControllerConfig;
import org.ievirsh.api.v1.ControllerConfig.Course;
import org.ievirsh.api.v1.ControllerConfig.CourseVm;
import org.ievirsh.api.v1.VirtualMachine;
import org.ievirsh.api.v1.VirtualMachineFile;
import org.ievirsh.image.AsStudent;
import org.ievirsh.posix.Account;
import org.ievirsh.posix.PosixException;
import org.ievirsh.posix.SafeDir;
import org.ievirsh.status.StatusFiles;
import org.ievirsh.users.UserDirectories;

/**
 * CourseProvisioner gives every student of every course the course's VM
 * files (the README's "Courses"), once: it writes {@code <course>-<vm>.yaml}
 * into the student's directory as the student (a script run with their
 * rights alone makes the directory if missing and links each file into
 * place, so nothing is ever overwritten and no link of theirs can lead it
 * anywhere they could not write themselves), then records in
 * {@code .status/courses} (written by the controller, never through a link)
 * which files it wrote. A recorded file is not written again, whatever
 * happens to it: a student who removes it has removed that VM. A crash
 * between the two steps finds the file at the next round and records it.
 *
 * <p>Run by the leader alone, one round at a time; a standby that takes
 * over reads the same records.
 */
public final class CourseProvisioner {
    private static final Logger LOG = Logger.getLogger(CourseProvisioner.class.getName());
    /** RECORD is the file in {@code .status/} that lists the course VMs written for the student. */
    public static final String RECORD = "courses";
    private static final int MAX_RECORD = 64 * 1024;
    private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(30);
    /** Students provisioned at once. */
    private static final int PARALLEL = 4;

    /**
     * Made one directory component at a time as the student: a link there is
     * not followed (the controller would not read a directory reached
     * through one), a missing one is made; then each file is linked from a
     * temporary one, never over an existing name.
     */
    private static final String SCRIPT = """
            set -f
            cd -P -- "$1" 2>/dev/null || { echo "nohome"; exit 0; }
            parts=$2
            shift 2
            IFS=/
            for c in $parts; do
              if [ -L "$c" ]; then echo "link $c"; exit 0; fi
              if [ ! -e "$c" ]; then mkdir -- "$c" 2>/dev/null || { echo "cannot $c"; exit 0; }; fi
              cd -P -- "$c" 2>/dev/null || { echo "cannot $c"; exit 0; }
            done
            unset IFS
            set -C
            while [ $# -ge 2 ]; do
              name=$1
              tmp=".$1.$$.tmp"
              if [ -e "$name" ] || [ -L "$name" ]; then
                echo "exists $name"
              elif printf '%s' "$2" > "$tmp" && ln -- "$tmp" "$name" 2>/dev/null; then
                echo "wrote $name"
              else
                echo "exists $name"
              fi
              rm -f -- "$tmp"
              shift 2
            done
            """;

    /** State is where one student of a course stands: provisioned, or why not. */
    public record State(boolean provisioned, String reason) {
        static final State DONE = new State(true, "");

        static State noDirectory(String why) {
            return new State(false, why);
        }
    }

    private final UserDirectories directories;
    private final CourseMembers members;
    private final java.util.function.Consumer<Set<Integer>> written;
    /** The last round's outcome, by course and student (for {@code course list}). */
    private final Map<String, Map<String, State>> states = new ConcurrentHashMap<>();
    /** The students' scripts, a few at once; no thread kept once a round is over. */
    private final java.util.concurrent.ThreadPoolExecutor scripts = new java.util.concurrent.ThreadPoolExecutor(
            PARALLEL, PARALLEL, 5, java.util.concurrent.TimeUnit.SECONDS,
            new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "course-student");
                t.setDaemon(true);
                return t;
            });

    /** {@code written} is told the uids of the students a round wrote files for. */
    public CourseProvisioner(UserDirectories directories, CourseMembers members,
                             java.util.function.Consumer<Set<Integer>> written) {
        this.directories = directories;
        this.members = members;
        this.written = written;
        scripts.allowCoreThreadTimeOut(true);
    }

    /** One round over every course of {@code config}; returns how many files it wrote. */
    public int provision(ControllerConfig config) {
        java.util.concurrent.atomic.AtomicInteger files = new java.util.concurrent.atomic.AtomicInteger();
        Set<Integer> wroteFor = new java.util.concurrent.ConcurrentSkipListSet<>();
        states.keySet().retainAll(config.courses().keySet());
        for (Course course : config.courses().values()) {
            Optional<List<Account>> students = members.of(course.students(), config.users().minUid());
            if (students.isEmpty()) {
                LOG.warning("course " + course.name() + ": NSS does not know the group " + course.students()
                        + " now; its students get their VMs once it does");
                continue;
            }
            Map<String, State> before = states.getOrDefault(course.name(), Map.of());
            Map<String, State> byStudent = new ConcurrentHashMap<>();
            // A few students at once: each is a short process of theirs, which mostly waits for fork and exec.
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (Account student : students.get()) {
                done.add(scripts.submit(() -> {
                    Outcome outcome = provision(config, course, student);
                    files.addAndGet(outcome.wrote());
                    if (outcome.wrote() > 0) {
                        wroteFor.add(student.uid());
                    }
                    byStudent.put(student.name(), outcome.state());
                    if (!outcome.state().provisioned() && !outcome.state().equals(before.get(student.name()))) {
                        LOG.warning("course " + course.name() + ": no VM files for " + student.name() + ": "
                                + outcome.state().reason());
                    }
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    LOG.log(java.util.logging.Level.WARNING, "course " + course.name() + ": a student's round failed",
                            e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return files.get();
                }
            }
            states.put(course.name(), byStudent);
        }
        if (!wroteFor.isEmpty()) {
            written.accept(Set.copyOf(wroteFor));
        }
        return files.get();
    }

    /** The last round's state of each student of {@code course} (empty before the first round). */
    public Map<String, State> states(String course) {
        return states.getOrDefault(course, Map.of());
    }

    private record Outcome(State state, int wrote) {
    }

    private Outcome provision(ControllerConfig config, Course course, Account student) {
        Optional<Path> dir = CoursePlanner.directoryOf(config.users().directories(), student.home());
        if (dir.isEmpty()) {
            return new Outcome(State.noDirectory("the home " + student.home() + " gives no directory that "
                    + config.users().directories() + " matches"), 0);
        }
        Set<String> recorded;
        try {
            recorded = recorded(dir.get());
        } catch (PosixException e) {
            // Not knowing what was written, nothing is: a VM the student removed must not come back.
            return new Outcome(State.noDirectory(e.isSymlinkRefused() ? dir.get() + " or a directory on its way is"
                    + " a symbolic link: the controller reads no directory through a link"
                    : "cannot read what was written for them: " + e.getMessage()), 0);
        }
        List<CourseVm> left = CoursePlanner.toWrite(course, recorded);
        if (left.isEmpty()) {
            return new Outcome(State.DONE, 0);
        }
        List<String> args = new ArrayList<>(List.of(student.home(),
                String.join("/", CoursePlanner.belowHome(Path.of(student.home()), dir.get()))));
        for (CourseVm vm : left) {
            args.add(CourseFile.name(course, vm));
            args.add(new String(CourseFile.text(course, vm), StandardCharsets.UTF_8));
        }
        AsStudent.Result result;
        try {
            result = AsStudent.run(student.uid(), student.gid(), Path.of("/"), SCRIPT, args, Map.of(), 64 * 1024,
                    SCRIPT_TIMEOUT);
        } catch (IOException e) {
            return new Outcome(State.noDirectory("writing as " + student.name() + " failed: " + e.getMessage()), 0);
        }
        Set<String> done = new TreeSet<>(recorded);
        int wrote = 0;
        for (String line : result.text().split("\n")) {
            if (line.equals("nohome")) {
                return new Outcome(State.noDirectory("the home " + student.home() + " cannot be entered"), 0);
            }
            if (line.startsWith("link ")) {
                return new Outcome(State.noDirectory(dir.get() + " is a symbolic link (" + line.substring(5)
                        + "): the controller reads no directory through a link"), 0);
            }
            if (line.startsWith("cannot ")) {
                return new Outcome(State.noDirectory(dir.get() + " cannot be made as " + student.name()), 0);
            }
            String name = VirtualMachineFile.baseName(line.substring(line.indexOf(' ') + 1));
            if (name == null || !VirtualMachine.isValidName(name)) {
                continue;
            }
            if (line.startsWith("wrote ")) {
                wrote++;
                LOG.info("course " + course.name() + ": wrote " + dir.get() + "/" + name + ".yaml for "
                        + student.name());
            } else {
                LOG.info("course " + course.name() + ": " + dir.get() + "/" + name + ".yaml was there already;"
                        + " left as it is");
            }
            done.add(name);
        }
        if (!record(dir.get(), student, done)) {
            return new Outcome(State.noDirectory(dir.get() + "/.status cannot be written"), wrote);
        }
        return new Outcome(State.DONE, wrote);
    }

    /** The course VMs recorded in the student's {@code .status/courses}; empty when none (no directory yet). */
    private Set<String> recorded(Path dir) throws PosixException {
        try (SafeDir user = directories.open(dir); SafeDir status = user.openDir(StatusFiles.DIRECTORY)) {
            Optional<SafeDir.Contents> contents = status.read(RECORD, MAX_RECORD);
            if (contents.isEmpty() || contents.get().bytes() == null) {
                return Set.of();
            }
            Set<String> names = new TreeSet<>();
            for (String line : new String(contents.get().bytes(), StandardCharsets.UTF_8).split("\n")) {
                if (VirtualMachine.isValidName(line.strip())) {
                    names.add(line.strip());
                }
            }
            return names;
        } catch (PosixException e) {
            if (e.isNotFound()) {
                return Set.of();
            }
            throw e;
        }
    }

    private boolean record(Path dir, Account student, Set<String> names) {
        StringBuilder text = new StringBuilder("# The course VMs ie-virsh wrote into this directory; it does not"
                + " write them again.\n");
        names.forEach(n -> text.append(n).append('\n'));
        try (SafeDir user = directories.open(dir)) {
            if (user.stat().uid() != student.uid()) {
                LOG.warning(dir + " is not " + student.name() + "'s; nothing is recorded there");
                return false;
            }
            try (SafeDir status = user.openOrCreateDir(StatusFiles.DIRECTORY, student.uid(), student.gid(), 0700)) {
                status.writeAtomically(RECORD, text.toString().getBytes(StandardCharsets.UTF_8), student.uid(),
                        student.gid(), 0600);
            }
            return true;
        } catch (PosixException e) {
            LOG.warning("course VMs of " + student.name() + ": cannot record them in " + dir + "/.status: "
                    + e.getMessage());
            return false;
        }
    }
}
