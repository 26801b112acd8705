package org.ievirsh.users;

import java.nio.file.Path;
import java.util.Optional;

/** OwnerResolver says whose a student directory is. */
public interface OwnerResolver {

    /**
     * The owner of {@code directory}, whose POSIX owner is {@code uid}; empty
     * when it cannot be told now (NSS does not resolve the uid: nothing of
     * that user is created or deleted until it does).
     */
    Optional<Owner> resolve(Path directory, int uid);

    /**
     * True when this resolver tells directories of one uid apart (the demo,
     * where one account plays several students); NSS does not, so several
     * directories of one uid are a conflict.
     */
    default boolean distinguishesDirectories() {
        return false;
    }

    /** {@code callback} runs when an answer that a caller did not wait for arrives (a slow directory server). */
    default void onLateAnswer(Runnable callback) {
    }

    /**
     * Forgets what is known of {@code uid}: the next resolve asks afresh (a
     * course just gave the student VMs, and their groups must be the ones
     * NSS gives now, not those of minutes ago).
     */
    default void refresh(int uid) {
    }

    /** Prepares to resolve the owners of {@code uids} at once (a discovery); resolving one by one still works. */
    default void prepare(java.util.Set<Integer> uids) {
    }
}
