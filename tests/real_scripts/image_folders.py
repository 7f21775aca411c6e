"""Two image folders read with flow_from_directory, steps counted in samples.

Modelled on the cats-vs-dogs blog script that many bug reports start from: the sample
counts are typed in by hand (`nb_train_samples = 2000`), and the steps are
`nb_train_samples // batch_size` whatever the folders really hold.
"""
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator

img_width, img_height = 48, 48
train_data_dir = "data/train"
validation_data_dir = "data/validation"
nb_train_samples = 2000
nb_validation_samples = 800
epochs = 3
batch_size = 16

train_datagen = ImageDataGenerator(rescale=1.0 / 255, shear_range=0.2, zoom_range=0.2,
                                   horizontal_flip=True)
test_datagen = ImageDataGenerator(rescale=1.0 / 255)
train_generator = train_datagen.flow_from_directory(
    train_data_dir, target_size=(img_width, img_height), batch_size=batch_size,
    class_mode="binary")
validation_generator = test_datagen.flow_from_directory(
    validation_data_dir, target_size=(img_width, img_height), batch_size=batch_size,
    class_mode="binary")

model = keras.Sequential([
    keras.Input(shape=(img_width, img_height, 3)),
    keras.layers.Conv2D(8, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
model.fit(
    train_generator,
    steps_per_epoch=nb_train_samples // batch_size,
    epochs=epochs,
    validation_data=validation_generator,
    validation_steps=nb_validation_samples // batch_size,
)
