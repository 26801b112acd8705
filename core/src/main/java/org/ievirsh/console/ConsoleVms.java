package org.ievirsh.console;

import java.util.List;
import java.util.Optional;
import org.ievirsh.libvirt.ConsoleStream;
import org.ievirsh.libvirt.HypervisorException;

/** ConsoleVms is what the console broker asks of the controller. */
public interface ConsoleVms {

    /** Target is a VM as the controller knows it: where its domain runs, if it runs. */
    record Target(String blade, String uuid, boolean running) {
    }

    /** Listing is the answer to a {@code LIST} or a snapshot request: its lines, or the refusal's message. */
    record Listing(List<String> lines, String refusal) {
        public static Listing of(List<String> lines) {
            return new Listing(lines, null);
        }

        public static Listing refused(String why) {
            return new Listing(List.of(), why);
        }
    }

    /** The VM {@code vm} of {@code user} (the account of {@code uid}: never an older one of that name). */
    Optional<Target> find(String user, int uid, String vm);

    /**
     * Opens the serial console of domain {@code uuid} on {@code blade}
     * over a connection of its own (closed with the stream); with
     * {@code force}, a session someone else has open ends.
     */
    ConsoleStream open(String blade, String uuid, boolean force) throws HypervisorException;

    /** False on a standby controller: only the leader serves consoles. */
    boolean leading();

    /**
     * The course through which {@code caller} may open {@code student}'s
     * {@code vm}: a course VM of the student's, of a course the caller
     * teaches now (NSS asked now). Empty: none.
     */
    default Optional<String> teaching(String caller, String student, String vm) {
        return Optional.empty();
    }

    /** The lines answering {@code LIST course} for {@code caller}, or why not. */
    default Listing list(String caller, String course) {
        return Listing.refused("there is no course " + course);
    }

    /**
     * Answers a snapshot request ({@code op}: SNAPSHOT, SNAPSHOTS,
     * REVERT or DELETE-SNAPSHOT) on the caller's own {@code vm}.
     */
    default Listing snapshot(String op, String user, int uid, String vm, String label) {
        return Listing.refused("snapshots are not served here");
    }

    /** An instructor's session on {@code student}'s {@code vm} opened ({@code open}) or ended. */
    default void watching(String student, String vm, String who, boolean open) {
    }
}
