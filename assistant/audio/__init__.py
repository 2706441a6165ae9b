"""Sound in and out: device discovery, the microphone, WAV files read as a microphone, the speaker,
and short earcons. sounddevice (PortAudio) is imported only when a device is actually used, so the
rest of the assistant runs on machines without libportaudio2."""
