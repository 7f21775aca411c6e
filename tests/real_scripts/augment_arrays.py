"""Augmenting in-memory images with ImageDataGenerator, after an sklearn split.

Modelled on the CIFAR-style snippets in "fit_generator stops after the first epoch"
threads: steps_per_epoch from `len(x_train) // batch_size`, validation on arrays, the
history plotted at the end.
"""
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator

rng = np.random.default_rng(3)
images = rng.random((200, 24, 24, 3)).astype("float32")
labels = keras.utils.to_categorical(rng.integers(0, 3, size=200), 3)
x_train, x_val, y_train, y_val = train_test_split(images, labels, test_size=0.25, random_state=1)

batch_size = 32
datagen = ImageDataGenerator(
    rotation_range=15, width_shift_range=0.1, shear_range=0.2, zoom_range=0.2,
    horizontal_flip=True,
)

model = keras.Sequential([
    keras.Input(shape=(24, 24, 3)),
    keras.layers.Conv2D(4, 3, activation="relu"),
    keras.layers.GlobalAveragePooling2D(),
    keras.layers.Dense(3, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
history = model.fit(
    datagen.flow(x_train, y_train, batch_size=batch_size),
    steps_per_epoch=len(x_train) // batch_size,
    validation_data=(x_val, y_val),
    epochs=3,
    verbose=2,
)
plt.plot(history.history["loss"], label="train")
plt.plot(history.history["val_loss"], label="validation")
plt.legend()
plt.show()
