package org.ievirsh.engine;

/** Key is what the work queue holds: which thing to look at, never what happened to it. */
public sealed interface Key {

    /** All VMs of one user. */
    record User(String user) implements Key {
    }

    /** One blade's view of its domains. */
    record Blade(String blade) implements Key {
    }

    /** The search for students' directories. */
    record Discovery() implements Key {
    }
}
