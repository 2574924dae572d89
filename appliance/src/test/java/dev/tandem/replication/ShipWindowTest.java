package dev.tandem.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When the primary sends the next change batch to a follower. */
class ShipWindowTest {
    @Test
    void aPartialBatchWaitsForTheOutstandingOneSoCommitsDuringARoundTripTravelTogether() {
        assertThat(PrimarySide.maySend(1, 0)).as("idle stream: at once").isTrue();
        assertThat(PrimarySide.maySend(1, 1)).isFalse();
        assertThat(PrimarySide.maySend(511, 1)).isFalse();
    }

    @Test
    void fullBatchesArePipelinedForCatchUp() {
        assertThat(PrimarySide.maySend(512, 0)).isTrue();
        assertThat(PrimarySide.maySend(512, 15)).isTrue();
        assertThat(PrimarySide.maySend(512, 16)).as("at most 8192 changes in flight").isFalse();
    }
}
